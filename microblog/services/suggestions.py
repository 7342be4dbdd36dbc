"""Who to follow: the accounts followed by the people you follow (most of them first), then accounts
that posted lately (most followers first); cached per person for a few minutes.

Never suggested: yourself, people you follow, people you blocked or muted or who blocked you, and
suspended accounts. A visitor gets the active accounts only.

The answer is kept per person in the process (as the trending tags are) for ``CACHE_SECONDS``, and
is tied to the person's ``following_count``: following or unfollowing someone changes that count,
which the page already has from the account's own row, so the next page asks again, in any process.
Blocking and muting forget this process's answer (``forget``); another process's copy is at most a few
minutes old.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from microblog.extensions import db
from microblog.models import Block, Mute, Post, User, followers
from microblog.timeutil import utcnow

# The most suggestions one person is offered (the full page); a sidebar shows the first few.
MOST = 30
# How long a process reuses a person's suggestions (config: SUGGESTIONS_CACHE_SECONDS).
CACHE_SECONDS = 300
# An "active" account posted publicly within this window.
ACTIVE_WINDOW = timedelta(days=7)
# People whose suggestions a process keeps at most; past it, it starts again.
CACHE_ENTRIES = 10_000
# The extension slot of the cache: {viewer id or None: (when, following_count, suggestions)}.
CACHE_KEY = "who_to_follow"


@dataclass(frozen=True)
class Suggestion:
    """One account to suggest, as a plain record that outlives the request (``avatar_url`` takes it).

    ``followed_by``: how many of the people the viewer follows follow this account (0: suggested for
    being active)."""

    id: int
    username: str
    about_me: str | None
    avatar_key: str | None
    avatar_digest: str
    email_digest: str
    follower_count: int
    followed_by: int = 0

    @classmethod
    def of(cls, user: User, followed_by: int = 0) -> Suggestion:
        return cls(user.id, user.username, user.about_me, user.avatar_key, user.avatar_digest,
                   user.email_digest, user.follower_count, followed_by)


def _eligible(viewer_id: int | None) -> list[sa.ColumnElement[bool]]:
    """Where-clauses on ``User`` for the accounts that may be suggested to ``viewer_id``."""
    clauses: list[sa.ColumnElement[bool]] = [User.suspended_at.is_(None), User.deactivated_at.is_(None)]
    if viewer_id is None:
        return clauses
    return [
        *clauses,
        User.id != viewer_id,
        User.id.not_in(sa.select(followers.c.followed_id).where(followers.c.follower_id == viewer_id)),
        User.id.not_in(sa.select(Block.blocked_id).where(Block.blocker_id == viewer_id)),
        User.id.not_in(sa.select(Block.blocker_id).where(Block.blocked_id == viewer_id)),
        User.id.not_in(sa.select(Mute.muted_id).where(Mute.muter_id == viewer_id)),
    ]


def friends_of_friends_select(viewer_id: int, limit: int) -> sa.Select:
    """(user id, how many of the people ``viewer_id`` follows follow them), most such followers first."""
    mine = followers.alias("mine")
    theirs = followers.alias("theirs")
    followed_by = sa.func.count().label("followed_by")
    return (
        sa.select(theirs.c.followed_id.label("user_id"), followed_by, sa.literal_column("0").label("source"))
        .select_from(mine.join(theirs, theirs.c.follower_id == mine.c.followed_id))
        .join(User, User.id == theirs.c.followed_id)
        .where(mine.c.follower_id == viewer_id, *_eligible(viewer_id))
        .group_by(theirs.c.followed_id, User.follower_count)
        .order_by(followed_by.desc(), User.follower_count.desc(), theirs.c.followed_id)
        .limit(limit)
    )


def active_accounts_select(viewer_id: int | None, limit: int) -> sa.Select:
    """(user id, 0, 1) of the accounts with a public post in the last ``ACTIVE_WINDOW``, the most
    followed first (a read of the newest posts through their timestamp index, not of every account)."""
    since = utcnow() - ACTIVE_WINDOW
    posted = sa.select(Post.user_id).where(Post.timestamp >= since, Post.hidden_at.is_(None),
                                           Post.public_only())
    return (
        sa.select(User.id.label("user_id"), sa.literal_column("0").label("followed_by"),
                  sa.literal_column("1").label("source"))
        .where(User.id.in_(posted), *_eligible(viewer_id))
        .order_by(User.follower_count.desc(), User.id)
        .limit(limit)
    )


def suggestions_select(viewer_id: int | None, limit: int) -> sa.Select:
    """(User, followed_by) for both kinds of suggestion in one statement: the first ``limit`` friends of
    friends, then the first ``limit`` active accounts (an account may be in both: ``compute`` keeps its
    first place)."""
    parts = [active_accounts_select(viewer_id, limit).subquery()]
    if viewer_id is not None:
        parts.insert(0, friends_of_friends_select(viewer_id, limit).subquery())
    # Each part is a subquery of its own: SQLite allows no LIMIT on the members of a UNION.
    both = sa.union_all(*(sa.select(part) for part in parts)).subquery()
    return (
        sa.select(User, both.c.followed_by)
        .join(both, both.c.user_id == User.id)
        .order_by(both.c.source, both.c.followed_by.desc(), User.follower_count.desc(), User.id)
    )


def compute(viewer: User | None, limit: int = MOST) -> list[Suggestion]:
    """The suggestions for ``viewer`` (None: a visitor), without the cache: one statement."""
    found: dict[int, Suggestion] = {}
    for user, followed_by in db.session.execute(suggestions_select(viewer.id if viewer else None, limit)):
        found.setdefault(user.id, Suggestion.of(user, followed_by))
    return list(found.values())[:limit]


def who_to_follow(viewer: User | None, limit: int = MOST) -> list[Suggestion]:
    """The first ``limit`` suggestions for ``viewer`` (None: a visitor), from this process's cache
    when it has a fresh answer for them (no statement at all)."""
    cache: dict = current_app.extensions.setdefault(CACHE_KEY, {})
    ttl = current_app.config.get("SUGGESTIONS_CACHE_SECONDS", CACHE_SECONDS)
    key = viewer.id if viewer is not None else None
    version = viewer.following_count if viewer is not None else 0
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[1] == version and now - hit[0] < ttl:
        return hit[2][:limit]
    found = compute(viewer)
    if len(cache) >= CACHE_ENTRIES:
        cache.clear()
    cache[key] = (now, version, found)
    return found[:limit]


def forget(viewer_id: int) -> None:
    """Drop this process's suggestions for ``viewer_id`` (after a block or a mute)."""
    current_app.extensions.get(CACHE_KEY, {}).pop(viewer_id, None)


def forget_everyone() -> None:
    """Drop every cached suggestion in this process (after a rename: the cards carry the names)."""
    current_app.extensions.get(CACHE_KEY, {}).clear()
