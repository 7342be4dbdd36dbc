"""Changes of an account's email address: pending until the new address confirms, undoable from the old.

One row per request. A request not yet confirmed is *pending*; a later request or a cancel deletes it
(it changed nothing, and the audit log keeps its trace). A confirmed row stays: it carries the undo
link of the old address for 7 days, and its history. Both links are random tokens of which only a
SHA-256 digest is kept, so a leaked database holds no working link; each is spent once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.models.limits import EMAIL_MAX
from microblog.timeutil import UTCDateTime, utcnow


class EmailChange(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """A request to move an account from ``old_email`` to ``new_email``."""

    __tablename__ = "email_change"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    old_email: so.Mapped[str] = so.mapped_column(sa.String(EMAIL_MAX))
    new_email: so.Mapped[str] = so.mapped_column(sa.String(EMAIL_MAX))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    confirm_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    confirm_expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    undo_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    undo_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    undone_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<EmailChange {self.id} of user {self.user_id}>"
