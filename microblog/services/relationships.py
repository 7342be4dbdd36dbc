"""How a viewer stands to another person, for a profile page, or to each person of a list page: one
statement for all of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Block, Mute, User, followers


@dataclass(frozen=True)
class Relationship:
    """``viewer`` follows / blocked / muted ``other``; ``blocked_me``: ``other`` blocked ``viewer``."""

    following: bool = False
    blocked_them: bool = False
    blocked_me: bool = False
    muted: bool = False


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
    )).one()
    return Relationship(*(bool(value) for value in row))


def relationships_with(viewer: User | None, people: Iterable[User]) -> dict[int, Relationship]:
    """Where ``viewer`` stands with each of ``people`` (a page of a list), by id, in one statement
    whatever their number; nobody is in it for a visitor, and ``viewer`` never is. People absent from
    the answer stand at ``NONE``."""
    ids = sorted({person.id for person in people} - ({viewer.id} if viewer is not None else set()))
    if viewer is None or not ids:
        return {}
    # One row per fact: (the other person's id, which fact). UNION ALL of four small index reads.
    facts = sa.union_all(
        sa.select(followers.c.followed_id, sa.literal("following")).where(
            followers.c.follower_id == viewer.id, followers.c.followed_id.in_(ids)),
        sa.select(Block.blocked_id, sa.literal("blocked_them")).where(
            Block.blocker_id == viewer.id, Block.blocked_id.in_(ids)),
        sa.select(Block.blocker_id, sa.literal("blocked_me")).where(
            Block.blocked_id == viewer.id, Block.blocker_id.in_(ids)),
        sa.select(Mute.muted_id, sa.literal("muted")).where(
            Mute.muter_id == viewer.id, Mute.muted_id.in_(ids)),
    )
    found: dict[int, set[str]] = {}
    for other_id, fact in db.session.execute(facts):
        found.setdefault(other_id, set()).add(fact)
    return {other_id: Relationship(**dict.fromkeys(names, True)) for other_id, names in found.items()}
