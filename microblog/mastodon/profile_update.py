"""PATCH /api/v1/accounts/update_credentials read into our profile's terms, then saved through the
services the web's Edit profile uses (services.accounts.update_profile, services.profile_media).

What Mastodon has and we have not is answered honestly: a setting we cannot change is accepted when it
asks for what the account already is, and refused with 422 otherwise (never silently dropped):

- ``display_name``: we have no display name (the Account's is the username): its username or "" only;
- ``bot``, ``hide_collections``, ``source[sensitive]``: false only;
- ``discoverable`` (every account may be suggested): true only; ``indexable``: false only (our search
  of posts is not Mastodon's opt-in public search);
- ``fields_attributes`` (no profile fields): empty only; ``attribution_domains``: empty only.

``locked`` is the web's "approve new followers by hand" (unlocking approves the waiting requests),
``note`` is the about-me text, ``source[privacy]`` the default visibility of new posts (``private`` is
our followers-only), ``source[language]`` the site's language for the account when the site offers it
(``pt`` is pt_BR), ``avatar`` and ``header`` the profile picture and header image (multipart files).

Every check of the parameters runs before anything is saved. The text is saved before the images: an
image refused by the image checks (unreadable, too many pixels) answers 422 after the text was saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_babel import force_locale

from microblog.exceptions import ValidationError
from microblog.mastodon.account_support import flag
from microblog.mastodon.entities import PRIVACY
from microblog.models import User
from microblog.services import accounts, profile_media

# Mastodon's privacy words -> our visibilities (``direct`` is no default a profile can have).
VISIBILITY = {name: value for value, name in PRIVACY.items()}
# Settings we cannot change: the value each one has here, which is all they may be set to.
FIXED = {"bot": False, "hide_collections": False, "discoverable": True, "indexable": False}


@dataclass
class ProfileChange:
    """What an update_credentials request changes (None: left as it is)."""

    about_me: str | None = None
    default_visibility: str | None = None
    locale: str | None = None
    locked: bool | None = None
    avatar: bytes | None = None
    header: bytes | None = None


def _source(values: dict[str, Any]) -> dict[str, Any]:
    """``source[...]`` as form fields (``source[privacy]``) or as a JSON object (``"source": {...}``)."""
    source = values.get("source")
    if source is not None and not isinstance(source, dict):
        raise ValidationError("source must be an object")
    found = dict(source) if isinstance(source, dict) else {}
    for key, value in values.items():
        if key.startswith("source[") and key.endswith("]"):
            found[key[len("source["):-1]] = value
    return found


def _text(values: dict[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string")
    return value


def _boolean(values: dict[str, Any], name: str) -> bool | None:
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, (bool, int, str)):
        raise ValidationError(f"{name} must be a boolean")
    return flag(value)


def _locale(code: str) -> str:
    """The site's language for an ISO 639-1 code (or one of its own names): "" clears the setting."""
    languages = current_app.config["LANGUAGES"]
    if code == "" or code in languages:
        return code
    for language in languages:
        if language.split("_")[0].lower() == code.lower():
            return language
    raise ValidationError(f"Language {code!r} is not one of this site's languages ({', '.join(languages)})")


def _file(name: str) -> bytes | None:
    upload = request.files.get(name)
    return upload.read() if upload is not None else None


def read_change(user: User, values: dict[str, Any]) -> ProfileChange:
    """The request's changes, every parameter checked.

    :raises ValidationError: a parameter we cannot honour, or of the wrong type or value.
    """
    display_name = _text(values, "display_name")
    if display_name not in (None, "", user.username):
        raise ValidationError("Display name cannot differ from the username here (profiles have no display "
                              "name); send the username or an empty one")
    for name, fixed in FIXED.items():
        if name in values and flag(values[name]) != fixed:
            raise ValidationError(f"{name} cannot be {str(not fixed).lower()} on this site")
    if any(key.startswith("fields_attributes") and value not in ("", None, {}, [])
           for key, value in values.items()):
        raise ValidationError("Profile fields are not supported on this site")
    if values.get("attribution_domains") not in (None, "", []):
        raise ValidationError("Attribution domains are not supported on this site")
    source = _source(values)
    if "sensitive" in source and flag(source["sensitive"]):
        raise ValidationError("Marking every post sensitive by default is not supported on this site")
    change = ProfileChange(about_me=_text(values, "note"), locked=_boolean(values, "locked"))
    privacy = source.get("privacy")
    if privacy is not None:
        if not isinstance(privacy, str) or privacy not in VISIBILITY:
            raise ValidationError(f"Privacy must be one of {', '.join(VISIBILITY)}")
        change.default_visibility = VISIBILITY[privacy]
    language = source.get("language")
    if language is not None:
        if not isinstance(language, str):
            raise ValidationError("Language must be a string")
        change.locale = _locale(language)
    for kind in profile_media.KINDS:
        data = _file(kind)
        if data is None and values.get(kind) not in (None, ""):
            raise ValidationError(f"{kind} must be an image file sent as multipart/form-data")
        setattr(change, kind, data)
    return change


def apply_change(user: User, change: ProfileChange) -> None:
    """Save ``change`` through the profile services (their messages in English, as Mastodon's are).

    :raises DomainError: a service refused (too long an about-me, not an image, storage down).
    """
    with force_locale("en"):
        if any(value is not None for value in (change.about_me, change.default_visibility, change.locale,
                                               change.locked)):
            about_me = change.about_me if change.about_me is not None else user.about_me
            accounts.update_profile(user, user.username, about_me, locale=change.locale,
                                    default_visibility=change.default_visibility, locked=change.locked)
        for kind in profile_media.KINDS:
            data = getattr(change, kind)
            if data is not None:
                profile_media.set_picture(user, kind, data)
