"""How a viewer stands to another person, for a profile page: one statement for all of it."""

from __future__ import annotations

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
