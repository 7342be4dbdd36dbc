"""Mastodon's instance API (docs: methods/instance, entities/Instance and V1_Instance): what this site
is and allows, read by apps to decide what to show and which endpoints exist.

Public, as Mastodon's are: no token needed, but a token that is sent must be valid. The limits are
the real settings (post length, images per post, image size and types); polls do not exist here, so
their limits are zero.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app

from microblog.external_urls import external_url
from microblog.images import ACCEPTED
from microblog.mastodon import entities
from microblog.mastodon.auth import oauth_optional
from microblog.mastodon.paths import route
from microblog.models import ABOUT_ME_MAX, MEDIA_DESCRIPTION_MAX
from microblog.services import instance_info
from microblog.webapp import SITE_NAME

bp = Blueprint("mastodon_instance", __name__)

DESCRIPTION = "A self-hosted microblog."


def _domain() -> str:
    return urlsplit(current_app.config["SITE_URL"]).netloc


def _streaming_url() -> str:
    scheme = "wss" if urlsplit(current_app.config["SITE_URL"]).scheme == "https" else "ws"
    return f"{scheme}://{_domain()}"


def _languages() -> list[str]:
    """ISO 639-1 codes of the site's languages (pt_BR -> pt), in order, once each."""
    codes: list[str] = []
    for locale in current_app.config["LANGUAGES"]:
        code = locale.split("_")[0]
        if code not in codes:
            codes.append(code)
    return codes


def _contact_email() -> str:
    admins = current_app.config.get("ADMINS") or []
    return admins[0] if admins else ""


def _statuses() -> dict[str, int]:
    config = current_app.config
    return {"max_characters": config["POST_MAX_LENGTH"], "max_media_attachments": config["MEDIA_PER_POST"],
            "characters_reserved_per_url": 23}


def _media() -> dict[str, Any]:
    config = current_app.config
    return {"supported_mime_types": list(ACCEPTED), "image_size_limit": config["MEDIA_MAX_BYTES"],
            "image_matrix_limit": config["MEDIA_MAX_PIXELS"], "video_size_limit": 0,
            "video_frame_rate_limit": 0, "video_matrix_limit": 0}


POLLS = {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0}


def _contact_account() -> dict[str, Any] | None:
    user = instance_info.contact_user()
    return entities.account(user) if user is not None else None


@route(bp, "/api/v1/instance", methods=["GET"])
@oauth_optional()
def instance_v1():
    """The V1_Instance entity (deprecated by Mastodon, still what many apps read first)."""
    usage = instance_info.usage()
    return {
        "uri": _domain(),
        "title": SITE_NAME,
        "short_description": DESCRIPTION,
        "description": DESCRIPTION,
        "email": _contact_email(),
        "version": instance_info.mastodon_version(),
        "urls": {"streaming_api": _streaming_url()},
        "stats": {"user_count": usage.users, "status_count": usage.local_posts, "domain_count": 0},
        "thumbnail": external_url("static", filename="icons/icon-512.png"),
        "languages": _languages(),
        "registrations": True,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 0},
            "statuses": _statuses(),
            "media_attachments": _media(),
            "polls": dict(POLLS),
        },
        "contact_account": _contact_account(),
        "rules": [],
    }


@route(bp, "/api/v2/instance", methods=["GET"])
@oauth_optional()
def instance_v2():
    """The Instance entity."""
    usage = instance_info.usage()
    icon = external_url("static", filename="icons/icon-512.png")
    return {
        "domain": _domain(),
        "title": SITE_NAME,
        "version": instance_info.mastodon_version(),
        "source_url": "",
        "description": DESCRIPTION,
        "usage": {"users": {"active_month": usage.active_month}},
        "thumbnail": {"url": icon, "blurhash": None, "versions": {}},
        "icon": [{"src": external_url("static", filename="icons/icon-192.png"), "size": "192x192"},
                 {"src": icon, "size": "512x512"}],
        "languages": _languages(),
        "configuration": {
            "urls": {"streaming": _streaming_url(), "status": None, "about": external_url("main.explore"),
                     "privacy_policy": None, "terms_of_service": None},
            "vapid": {"public_key": ""},
            "accounts": {"max_display_name_length": 0, "max_note_length": ABOUT_ME_MAX,
                         "max_avatar_description_length": 0, "max_header_description_length": 0,
                         "max_featured_tags": 0, "max_pinned_statuses": 0, "max_profile_fields": 0,
                         "profile_field_name_limit": 0, "profile_field_value_limit": 0},
            "statuses": _statuses(),
            "media_attachments": {**_media(), "description_limit": MEDIA_DESCRIPTION_MAX},
            "polls": dict(POLLS),
            "translation": {"enabled": False},
            "timelines_access": {
                "live_feeds": {"local": "public", "remote": "disabled"},
                "hashtag_feeds": {"local": "public", "remote": "disabled"},
                "trending_link_feeds": {"local": "disabled", "remote": "disabled"},
            },
            "limited_federation": False,
        },
        "registrations": {"enabled": True, "approval_required": False, "reason_required": False,
                          "message": None, "min_age": None, "url": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": _contact_email(), "account": _contact_account()},
        "rules": [],
    }


@route(bp, "/api/v1/instance/peers", methods=["GET"])
@oauth_optional()
def peers():
    """Domains this site federates with: none until federation."""
    return []


@route(bp, "/api/v1/instance/activity", methods=["GET"])
@oauth_optional()
def activity():
    """Posts, active accounts and sign-ups per week, the last twelve weeks (numbers as strings)."""
    return [{"week": str(int(datetime.combine(week.start, time(), tzinfo=UTC).timestamp())),
             "statuses": str(week.statuses), "logins": str(week.logins),
             "registrations": str(week.registrations)} for week in instance_info.weekly_activity()]


@route(bp, "/api/v1/instance/rules", methods=["GET"])
@oauth_optional()
def rules():
    """The site's rules: none written yet."""
    return []


@route(bp, "/api/v1/custom_emojis", methods=["GET"])
@oauth_optional()
def custom_emojis():
    """Custom emojis: none."""
    return []
