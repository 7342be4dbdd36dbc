"""Mastodon's entities (docs: entities/*) built from our rows: every documented key present, ids as
strings, times in ISO 8601 with milliseconds and ``Z``, absolute URLs built from SITE_URL.

The views of the Mastodon-compatible API serialize through here, so an entity has one shape
wherever it appears (an Account alone, in a status, as an instance's contact).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from microblog.avatars import avatar_url
from microblog.extensions import db
from microblog.external_urls import external_media_url, external_url
from microblog.models import OAuthApplication, Post, Role, User, Visibility
from microblog.services import follow_requests
from microblog.templating import linkify

# Our visibilities as Mastodon names them (source[privacy], a status's visibility).
PRIVACY = {Visibility.PUBLIC.value: "public", Visibility.UNLISTED.value: "unlisted",
           Visibility.FOLLOWERS.value: "private"}
# Mastodon's default roles (entities/Role): permission bits 0x1 administrator; the moderator's
# view audit log, dashboard, reports, users (0x4 | 0x8 | 0x10 | 0x400); 0x10000 invite users for all.
ROLES = {
    Role.USER.value: {"id": "-99", "name": "", "color": "", "permissions": "65536", "highlighted": False},
    Role.MODERATOR.value: {"id": "1", "name": "Moderator", "color": "", "permissions": str(0x1041C),
                           "highlighted": True},
    Role.ADMIN.value: {"id": "2", "name": "Admin", "color": "", "permissions": str(0x1 | 0x10000),
                       "highlighted": True},
}


def iso(value: datetime | None) -> str | None:
    """``2026-12-06T14:03:00.123Z`` (Mastodon's datetime format), or None."""
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def absolute(url: str) -> str:
    """A URL the app built (a path, or already absolute), made absolute on SITE_URL."""
    parts = urlsplit(url)
    if parts.scheme:
        return url
    site = urlsplit(current_app.config["SITE_URL"])
    if parts.netloc:
        return f"{site.scheme or 'https'}:{url}"
    return f"{site.scheme or 'https'}://{site.netloc}{site.path.rstrip('/')}{url}"


def note_html(text: str | None) -> str:
    """The profile's about-me text as Mastodon's HTML note: a paragraph, line breaks, links."""
    text = (text or "").strip()
    if not text:
        return ""
    paragraphs = [part for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]
    return "".join("<p>" + str(linkify(part.strip())).replace("\n", "<br />") + "</p>" for part in paragraphs)


def last_status_days(user_ids: Iterable[int]) -> dict[int, str]:
    """The day of each account's newest shown post (``last_status_at``), in one statement; accounts
    without a post are left out."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(last_status_days_select(ids))
    return {user_id: latest.date().isoformat() for user_id, latest in rows if latest is not None}


def last_status_days_select(user_ids: Any) -> sa.Select:
    """(user id, newest shown post's time) of these accounts (a list or an expanding bound parameter)."""
    return (sa.select(Post.user_id, sa.func.max(Post.timestamp))
            .where(Post.user_id.in_(user_ids), Post.hidden_at.is_(None)).group_by(Post.user_id))


def accounts(users: Iterable[User], days: dict[int, str] | None = None) -> dict[int, dict[str, Any]]:
    """The Account entities of these users by id: two or more accounts cost one statement, not one each
    (none when the caller read their ``last_status_days`` with something else)."""
    people = {user.id: user for user in users}
    if days is None:
        days = last_status_days(people)
    return {user_id: account(user, days.get(user_id)) for user_id, user in people.items()}


_LOOK_IT_UP = object()


def account(user: User, last_status_at: Any = _LOOK_IT_UP) -> dict[str, Any]:
    """The Account entity of an account, local or remote (``last_status_at`` as :func:`last_status_days`
    gives it, when the caller read it for many accounts at once)."""
    if last_status_at is _LOOK_IT_UP:
        last_status_at = last_status_days([user.id]).get(user.id)
    avatar = absolute(avatar_url(user, 400))
    header = (external_media_url(user.header_key) if user.header_key
              else external_url("static", filename="icons/missing-header.png"))
    profile = external_url("main.user", username=user.username)
    uri = profile
    if user.domain is not None:  # another server's: its own name, page and picture (apps load it there)
        avatar = user.avatar_url or avatar
        uri = user.actor_uri or profile
        profile = user.profile_url or uri
    return {
        "id": str(user.id),
        "username": user.username.split("@", 1)[0],
        "acct": user.username,  # a local account's acct is its username; a remote one's name@domain
        "display_name": user.display_name or user.username.split("@", 1)[0],
        "locked": bool(user.locked),
        "bot": False,
        "discoverable": True,
        "indexable": False,
        "group": False,
        # Mastodon gives the day an account was made, not the time (privacy): midnight UTC.
        "created_at": iso(user.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": note_html(user.about_me),
        "url": profile,
        "uri": uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": user.follower_count,
        "following_count": user.following_count,
        "statuses_count": user.post_count,
        "last_status_at": last_status_at,
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
    }


def credential_account(user: User) -> dict[str, Any]:
    """The CredentialAccount entity: the Account, plus ``source`` and ``role``, for its own user."""
    entity = account(user)
    entity["source"] = {
        "privacy": PRIVACY.get(user.default_visibility, "public"),
        "sensitive": False,
        "language": (user.locale or "")[:2],
        "note": user.about_me or "",
        "fields": [],
        "follow_requests_count": follow_requests.pending_count(user),
        "hide_collections": False,
        "discoverable": True,
        "indexable": False,
        "attribution_domains": [],
    }
    entity["role"] = dict(ROLES.get(user.role, ROLES[Role.USER.value]))
    return entity


def application(app: OAuthApplication) -> dict[str, Any]:
    """The Application entity (apps/verify_credentials)."""
    uris = app.redirect_uri_list
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scope_list,
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        # Deprecated in 4.3 and optional; no Web Push here yet, so no key.
        "vapid_key": None,
    }


def credential_application(app: OAuthApplication, client_secret: str) -> dict[str, Any]:
    """The CredentialApplication entity (POST /api/v1/apps): the Application, plus its credentials."""
    entity = application(app)
    entity.update({"client_id": app.client_id, "client_secret": client_secret, "client_secret_expires_at": 0})
    return entity

