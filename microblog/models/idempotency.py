"""Idempotency keys of ``POST /api/v1/statuses``: a client that retries a post (a timeout, a flaky
network) with the same ``Idempotency-Key`` header gets the status it made the first time, for an hour,
as Mastodon promises."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

# A SHA-256 digest in hex: the key as the client sent it is not kept (it may be long or personal).
IDEMPOTENCY_DIGEST_LENGTH = 64


class StatusIdempotency(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """``user`` made ``post`` with this key at ``created_at``. The unique (user, digest) is what stops two
    requests racing with one key from both posting: the second one's row cannot be committed."""

    __tablename__ = "status_idempotency"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "digest", name="uq_status_idempotency_user_id_digest"),
        # The sweep of keys older than an hour.
        sa.Index("ix_status_idempotency_created_at", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    digest: so.Mapped[str] = so.mapped_column(sa.String(IDEMPOTENCY_DIGEST_LENGTH))
    # A deleted post takes its key with it: retrying then posts anew, as it would on Mastodon.
    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<StatusIdempotency {self.user_id} -> post {self.post_id}>"
