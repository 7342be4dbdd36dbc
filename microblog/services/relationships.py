"""How a viewer stands to another person, for a profile page, or to each person of a list page: one
statement for all of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Block, FollowRequest, Mute, User, followers


@dataclass(frozen=True)
class Relationship:
    """``viewer`` follows / blocked / muted ``other``; ``blocked_me``: ``other`` blocked ``viewer``;
    ``requested``: ``viewer`` asked to follow ``other`` (locked or remote) and waits for the answer."""

    following: bool = False
    blocked_them: bool = False
    blocked_me: bool = False
    muted: bool = False
    requested: bool = False


NONE = Relationship()


def relationship(viewer: User | None, other: User) -> Relationship:
    """Where ``viewer`` (None: signed out) stands with ``other``; nothing for oneself or a visitor."""
    if viewer is None or viewer.id == other.id:
        return NONE

    def exists(query: sa.Select) -> sa.Exists:
        return sa.exists(query)

    row = db.session.execute(sa.select(
        exists(sa.select(followers.c.follower_id).where(
            followers.c.follower_id == viewer.id, followers.c.followed_id == other.id)),
        exists(sa.select(Block.blocker_id).where(
            Block.blocker_id == viewer.id, Block.blocked_id == other.id)),
        exists(sa.select(Block.blocker_id).where(
            Block.blocker_id == other.id, Block.blocked_id == viewer.id)),
        exists(sa.select(Mute.muter_id).where(Mute.muter_id == viewer.id, Mute.muted_id == other.id)),
        exists(sa.select(FollowRequest.id).where(
            FollowRequest.follower_id == viewer.id, FollowRequest.followed_id == other.id)),
    )).one()
    return Relationship(*(bool(value) for value in row))


def relationships_with(viewer: User | None, people: Iterable[User]) -> dict[int, Relationship]:
    """Where ``viewer`` stands with each of ``people`` (a page of a list), by id, in one statement
    whatever their number; nobody is in it for a visitor, and ``viewer`` never is. People absent from
    the answer stand at ``NONE``."""
    ids = sorted({person.id for person in people} - ({viewer.id} if viewer is not None else set()))
    if viewer is None or not ids:
        return {}
    # One row per fact: (the other person's id, which fact). UNION ALL of five small index reads.
    facts = sa.union_all(
        sa.select(followers.c.followed_id, sa.literal("following")).where(
            followers.c.follower_id == viewer.id, followers.c.followed_id.in_(ids)),
        sa.select(Block.blocked_id, sa.literal("blocked_them")).where(
            Block.blocker_id == viewer.id, Block.blocked_id.in_(ids)),
        sa.select(Block.blocker_id, sa.literal("blocked_me")).where(
            Block.blocked_id == viewer.id, Block.blocker_id.in_(ids)),
        sa.select(Mute.muted_id, sa.literal("muted")).where(
            Mute.muter_id == viewer.id, Mute.muted_id.in_(ids)),
        sa.select(FollowRequest.followed_id, sa.literal("requested")).where(
            FollowRequest.follower_id == viewer.id, FollowRequest.followed_id.in_(ids)),
    )
    found: dict[int, set[str]] = {}
    for other_id, fact in db.session.execute(facts):
        found.setdefault(other_id, set()).add(fact)
    return {other_id: Relationship(**dict.fromkeys(names, True)) for other_id, names in found.items()}


def followers_among(viewer: User, ids: Iterable[int]) -> set[int]:
    """Which of the accounts ``ids`` follow ``viewer`` (the Mastodon API's ``followed_by``), in one
    index read."""
    wanted = sorted(set(ids) - {viewer.id})
    if not wanted:
        return set()
    return set(db.session.scalars(sa.select(followers.c.follower_id).where(
        followers.c.followed_id == viewer.id, followers.c.follower_id.in_(wanted))))


def familiar_followers(viewer: User, ids: Iterable[int], per_account: int = 40) -> dict[int, list[User]]:
    """For each account of ``ids``: its followers whom ``viewer`` follows too (active accounts, at most
    ``per_account`` each, the most recent follow first), in one statement."""
    wanted = sorted(set(ids) - {viewer.id})
    if not wanted:
        return {}
    theirs = followers.alias("theirs")
    mine = followers.alias("mine")
    rows = db.session.execute(
        sa.select(theirs.c.followed_id, User)
        .join(User, User.id == theirs.c.follower_id)
        .join(mine, sa.and_(mine.c.followed_id == theirs.c.follower_id, mine.c.follower_id == viewer.id))
        .where(theirs.c.followed_id.in_(wanted), User.deactivated_at.is_(None))
        .order_by(theirs.c.created_at.desc(), theirs.c.follower_id.desc()))
    found: dict[int, list[User]] = {}
    for other_id, user in rows:
        people = found.setdefault(other_id, [])
        if len(people) < per_account:
            people.append(user)
    return found
