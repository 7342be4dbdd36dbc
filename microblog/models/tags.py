"""Hashtags and mentions found in a post's text, kept as rows so pages and notifications find them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

# The longest hashtag kept (longer ones are not tags: the text stays as written).
TAG_MAX = 100


class Tag(db.Model):
    """A hashtag, by its case-folded, NFKC-normalized name (``#Tea`` and ``#tea`` are one tag)."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(TAG_MAX), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Tag #{self.name}>"


class PostTag(db.Model):
    """``post`` carries ``tag``. The post's time and author ride along, so a tag's page and the
    trending list are read from this table's indexes, newest first, without sorting the posts."""

    __tablename__ = "post_tag"
    __table_args__ = (
        sa.Index("ix_post_tag_tag_id_timestamp_post_id", "tag_id", "timestamp", "post_id"),
        sa.Index("ix_post_tag_timestamp", "timestamp"),
    )

    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    tag_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    timestamp: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))

    tag: so.Mapped[Tag] = so.relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<PostTag {self.post_id} #{self.tag_id}>"


class Mention(db.Model):
    """``post`` mentions ``user`` by ``@name``: they were notified, and a followers-only post reaches them."""

    __table_args__ = (sa.Index("ix_mention_user_id_post_id", "user_id", "post_id"),)

    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)

    def __repr__(self) -> str:
        return f"<Mention post {self.post_id} -> user {self.user_id}>"
