"""Remote accounts changed by their servers: a profile updated (``Update`` of a Person), an account
deleted, an account moved to another (``Move``) with its local followers following it there."""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa

from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.federation import instances
from microblog.federation.remote_posts import as_list, id_of
from microblog.federation.sanitize import html_to_text, safe_url
from microblog.models import ABOUT_ME_MAX, URI_MAX, User, followers
from microblog.services import account_deletion, follows
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
DISPLAY_NAME_MAX = 100
ALSO_KNOWN_AS_MAX = 20


def _http_url(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("href") or value.get("url")
    if isinstance(value, list | dict):
        return _http_url(value)
    if not isinstance(value, str) or len(value) > URI_MAX or safe_url(value) != value:
        return None
    return value if value.lower().startswith(("http://", "https://")) else None


def apply_actor(user: User, person: dict[str, Any]) -> None:
    """Copy what a remote actor's JSON says about itself onto its account row (the caller commits):
    display name, bio (as plain text), picture, profile link, inboxes and followers collection (only
    on its own server), the accounts it says it also is. The key is left alone (it is fetched)."""
    name = person.get("name")
    if isinstance(name, str):
        user.display_name = html_to_text(name)[:DISPLAY_NAME_MAX] or None
    summary = person.get("summary")
    if isinstance(summary, str):
        user.about_me = html_to_text(summary)[:ABOUT_ME_MAX] or None
    user.avatar_url = _http_url(person.get("icon"))
    user.profile_url = _http_url(person.get("url")) or user.profile_url
    domain = user.domain or ""
    endpoints = person.get("endpoints")
    if not isinstance(endpoints, dict):
        endpoints = {}
    for column, value in (("inbox_url", person.get("inbox")), ("followers_url", person.get("followers")),
                          ("shared_inbox_url", endpoints.get("sharedInbox"))):
        url = _http_url(value)
        if url is not None and instances.domain_of(url) == domain:
            setattr(user, column, url)
    if "manuallyApprovesFollowers" in person:
        user.locked = bool(person.get("manuallyApprovesFollowers"))
    aliases = [uri for uri in map(id_of, as_list(person.get("alsoKnownAs"))) if uri][:ALSO_KNOWN_AS_MAX]
    user.also_known_as = json.dumps(aliases) if aliases else None
    user.fetched_at = utcnow()


def also_known_as(user: User) -> list[str]:
    try:
        aliases = json.loads(user.also_known_as or "[]")
    except ValueError:
        return []
    return [alias for alias in aliases if isinstance(alias, str)] if isinstance(aliases, list) else []


def delete_account(user: User) -> None:
    """A remote account its server deleted: it and everything of it (counts kept exact)."""
    account_deletion.delete_remote_account(user)


def move_followers(old: User, new: User) -> int:
    """``old`` moved to ``new``: note it, and make each local follower of ``old`` follow ``new`` instead
    (through the follows service: for a remote ``new`` that is a follow request to its server). A
    follower the rules keep from following ``new`` (a block) stops following ``old`` all the same.
    Returns how many followers moved."""
    old.moved_to_id = new.id
    db.session.commit()
    local = sa.select(User).join(followers, followers.c.follower_id == User.id).where(
        followers.c.followed_id == old.id, User.domain.is_(None)).order_by(User.id)
    moved = 0
    for follower in list(db.session.scalars(local)):
        if follower.id != new.id:
            try:
                follows.follow(follower, new)
                moved += 1
            except DomainError as exc:  # blocked, suspended...: they simply stop following
                db.session.rollback()
                log.info("move of %s: %s does not follow %s (%s)", old.id, follower.id, new.id, exc)
        follows.unfollow(follower, old)
    return moved


def actor_type_ok(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("type") in ACTOR_TYPES
