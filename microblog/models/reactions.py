"""What people do to a post besides replying: like it, repost it (ActivityStreams' ``Announce``),
bookmark it. Each is its own row, one per person and post."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.posts import Post
    from microblog.models.users import User


class _Reaction:
    """The columns every reaction has: who, to which post, when."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.user_id} -> post {self.post_id}>"


class Like(_Reaction, db.Model):
    """``user`` likes ``post`` (ActivityStreams ``Like``); ``post.like_count`` counts these rows."""

    __table_args__ = (
        sa.UniqueConstraint("user_id", "post_id", name="uq_like_user_id_post_id"),
        # "Who liked this post", newest first.
        sa.Index("ix_like_post_id_id", "post_id", "id"),
    )

    user: so.Mapped[User] = so.relationship(lazy="joined", innerjoin=True)


class Announce(_Reaction, db.Model):
    """``user`` reposted ``post`` to their followers (ActivityStreams ``Announce``)."""

    __table_args__ = (
        sa.UniqueConstraint("user_id", "post_id", name="uq_announce_user_id_post_id"),
        sa.Index("ix_announce_post_id_id", "post_id", "id"),
        # The home timeline walks the reposts of the people one follows, newest first, from this
        # index alone (the post id rides along).
        sa.Index("ix_announce_user_id_created_at_id_post_id", "user_id", "created_at", "id", "post_id"),
    )

    user: so.Mapped[User] = so.relationship(lazy="joined", innerjoin=True)
    post: so.Mapped[Post] = so.relationship()


class Bookmark(_Reaction, db.Model):
    """``user`` kept ``post`` to read later; private, nobody is told."""

    __table_args__ = (
        sa.UniqueConstraint("user_id", "post_id", name="uq_bookmark_user_id_post_id"),
        sa.Index("ix_bookmark_user_id_id", "user_id", "id"),
        sa.Index("ix_bookmark_post_id", "post_id"),
    )

    post: so.Mapped[Post] = so.relationship()
