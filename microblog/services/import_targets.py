"""What an imported line names, and doing what the import asks with it through the usual services.

``resolve_account`` and ``resolve_post`` turn a line into an account or post, or into the reason it
cannot be one: this site's are looked up here, other servers' on their servers (federation, signed as
the person importing), and stored. ``apply`` and ``remove`` follow, block, mute or bookmark through
``services.follows``, ``blocks``, ``mutes`` and ``reactions``, so every rule and counter holds.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from werkzeug.exceptions import HTTPException

from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.federation import actors
from microblog.federation import resolve as federation_resolve
from microblog.models import Block, Bookmark, Mute, Post, User, followers, user_by_username_select
from microblog.services import blocks, follows, mutes, posts, reactions
from microblog.services.accounts import USERNAME_RE
from microblog.services.import_files import BLOCKS, BOOKMARKS, FOLLOWING, MUTES

# Why a line was skipped (stored on the row; services.imports translates them).
INVALID = "invalid"
REMOTE = "remote"
NOT_FOUND = "not_found"
SELF = "self"
BLOCKED_BY_YOU = "blocked_by_you"
BLOCKED_YOU = "blocked_you"
NOT_THIS_SITE = "not_this_site"
POST_NOT_FOUND = "post_not_found"
REFUSED = "refused"


class Skip(Exception):
    """A line that cannot be applied; ``reason`` is one of the codes above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _site() -> tuple[str, str, str]:
    """This site's host (with its port, if any), its host name alone, and its path prefix."""
    site = urlsplit(current_app.config["SITE_URL"])
    return site.netloc.lower(), (site.hostname or "").lower(), site.path.rstrip("/")


def is_local_host(host: str) -> bool:
    """True when ``host`` names this site (SITE_URL's host, with or without its port)."""
    netloc, hostname, _prefix = _site()
    return host.lower() in (netloc, hostname)


def resolve_account(address: str, viewer: User | None = None) -> User:
    """The account ``address`` names: ``user``, ``@user``, ``user@host`` or ``@user@host``; another
    server's is looked up there (WebFinger, signed as ``viewer``) when ``viewer`` is given.

    :raises Skip: not an address, an account its server does not know (or is not asked), or no such
    account here.
    """
    parts = address.strip().removeprefix("@").split("@")
    if len(parts) > 2 or not parts[0]:
        raise Skip(INVALID)
    username = parts[0]
    if len(parts) == 2:
        host = parts[1]
        if not host or any(ch in host for ch in "/ \t?#"):
            raise Skip(INVALID)
        if not is_local_host(host):
            found = actors.resolve_handle(f"{username}@{host}", signer=viewer) if viewer else None
            if found is None:
                raise Skip(REMOTE)
            return found
    if not USERNAME_RE.match(username):
        raise Skip(INVALID)
    user = db.session.scalar(user_by_username_select(username))
    if user is None:
        raise Skip(NOT_FOUND)
    return user


def resolve_post(viewer: User, url: str) -> int:
    """The id of the post of this site that ``url`` links to, if ``viewer`` may see it.

    :raises Skip: not a link, a link elsewhere, or no such post for ``viewer``.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise Skip(INVALID)
    if not is_local_host(parts.netloc):
        found = federation_resolve.resolve(url.strip(), viewer)
        if not isinstance(found, Post) or posts.visible_post(viewer, found.id) is None:
            raise Skip(REMOTE)
        return found.id
    _netloc, _hostname, prefix = _site()
    if not parts.path.startswith(prefix + "/"):
        raise Skip(NOT_THIS_SITE)
    try:
        endpoint, values = current_app.url_map.bind("localhost").match(parts.path[len(prefix):], method="GET")
    except HTTPException as exc:  # not found, a redirect, a wrong method: not a post's page
        raise Skip(NOT_THIS_SITE) from exc
    post_id = values.get("post_id")
    if endpoint != "main.post" or not isinstance(post_id, int):
        raise Skip(NOT_THIS_SITE)
    if posts.visible_post(viewer, post_id) is None:
        raise Skip(POST_NOT_FOUND)
    return post_id


def resolve(user: User, kind: str, value: str) -> int:
    """The id of the account or post a line names. :raises Skip: see the resolvers."""
    if kind == BOOKMARKS:
        return resolve_post(user, value)
    target = resolve_account(value, user)
    if target.id == user.id:
        raise Skip(SELF)
    if kind == FOLLOWING:
        blocked_them, blocked_me = blocks.block_state(user, target)
        if blocked_them or blocked_me:
            raise Skip(BLOCKED_BY_YOU if blocked_them else BLOCKED_YOU)
    return target.id


def apply(user: User, kind: str, target_id: int) -> None:
    """Follow, block, mute or bookmark ``target_id`` as ``user`` (already done is fine).

    The service commits, and with it whatever the caller left in the session (the row's outcome).

    :raises Skip: the service refused (REFUSED).
    """
    try:
        if kind == BOOKMARKS:
            reactions.bookmark(user, target_id)
            return
        target = db.session.get(User, target_id)
        if target is None:
            raise Skip(NOT_FOUND)
        if kind == FOLLOWING:
            follows.follow(user, target)
        elif kind == BLOCKS:
            blocks.block_user(user, target)
        elif kind == MUTES:
            mutes.mute(user, target)
    except DomainError as exc:
        db.session.rollback()
        raise Skip(REFUSED) from exc


def current_targets(user: User, kind: str) -> sa.Select:
    """The ids ``user`` follows, blocked, muted or bookmarked now."""
    if kind == FOLLOWING:
        return sa.select(followers.c.followed_id).where(followers.c.follower_id == user.id)
    if kind == BLOCKS:
        return sa.select(Block.blocked_id).where(Block.blocker_id == user.id)
    if kind == MUTES:
        return sa.select(Mute.muted_id).where(Mute.muter_id == user.id)
    return sa.select(Bookmark.post_id).where(Bookmark.user_id == user.id)


def remove(user: User, kind: str, target_id: int) -> None:
    """Undo a follow, block, mute or bookmark (an overwrite's clean-up); commits."""
    if kind == BOOKMARKS:
        # No count or notification goes with a bookmark, and the post may be gone from view.
        db.session.execute(
            sa.delete(Bookmark).where(Bookmark.user_id == user.id, Bookmark.post_id == target_id))
        db.session.commit()
        return
    target = db.session.get(User, target_id)
    if target is None:
        return
    if kind == FOLLOWING:
        follows.unfollow(user, target)
    elif kind == BLOCKS:
        blocks.unblock_user(user, target)
    elif kind == MUTES:
        mutes.unmute(user, target)
