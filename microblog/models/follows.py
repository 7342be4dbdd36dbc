"""The follower graph: who follows whom, and since when."""

from __future__ import annotations

import sqlalchemy as sa

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
