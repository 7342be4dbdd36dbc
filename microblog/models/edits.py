"""Earlier versions of edited posts (``/post/<id>/history``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.models.posts import POST_BODY_CEILING, SUMMARY_MAX
from microblog.timeutil import UTCDateTime


class PostEdit(db.Model):
    """What a post said before one edit: its text and content warning, and since when it said that."""

    __tablename__ = "post_edit"
    __table_args__ = (sa.Index("ix_post_edit_post_id_id", "post_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"))
    body: so.Mapped[str] = so.mapped_column(sa.String(POST_BODY_CEILING))
    summary: so.Mapped[str | None] = so.mapped_column(sa.String(SUMMARY_MAX))
    # When this version was published (the post's time, or the edit that wrote it).
    written_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<PostEdit {self.id} of post {self.post_id}>"
