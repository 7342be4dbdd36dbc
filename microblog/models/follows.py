"""The graph between accounts: who follows whom (and since when), who blocked and who muted whom."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

followers = sa.Table(
    "followers",
    db.metadata,
    sa.Column("follower_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("followed_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    sa.CheckConstraint("follower_id <> followed_id", name="not_self"),
    # "Who follows X" walks this index; the primary key serves "whom does X follow".
    sa.Index("ix_followers_followed_id_follower_id", "followed_id", "follower_id"),
    # The follower and following lists, newest follow first, paged by keyset (no sort, no OFFSET).
    sa.Index("ix_followers_followed_id_created_at", "followed_id", "created_at", "follower_id"),
    sa.Index("ix_followers_follower_id_created_at", "follower_id", "created_at", "followed_id"),
)


class Block(db.Model):
    """``blocker`` does not want to hear from ``blocked``: no messages or follows, no posts in timelines."""

    __table_args__ = (
        sa.CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        # "Has X blocked me?" from the other side; the primary key serves "whom did I block".
        sa.Index("ix_block_blocked_id_blocker_id", "blocked_id", "blocker_id"),
    )

    blocker_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Block {self.blocker_id} blocks {self.blocked_id}>"


class Mute(db.Model):
    """``muter`` does not want to see ``muted``: their posts and reposts leave the muter's lists and
    notifications. The muted person is not told and can still follow, reply and write."""

    __table_args__ = (sa.CheckConstraint("muter_id <> muted_id", name="not_self"),)

    muter_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    muted_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Mute {self.muter_id} mutes {self.muted_id}>"
