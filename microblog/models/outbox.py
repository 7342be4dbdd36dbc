"""The mail outbox: each email is a row, written with the action behind it and sent by a job."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.models.limits import EMAIL_MAX
from microblog.timeutil import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    """Where an outbox message is on its way out, stored as its value in ``outbox_message.status``."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


# The older names, kept for callers.
OUTBOX_PENDING = OutboxStatus.PENDING
OUTBOX_SENDING = OutboxStatus.SENDING
OUTBOX_SENT = OutboxStatus.SENT
OUTBOX_FAILED = OutboxStatus.FAILED
OUTBOX_STATUSES: tuple[str, ...] = tuple(status.value for status in OutboxStatus)


class OutboxMessage(db.Model):
    """An email waiting to be delivered, written in the same transaction as the action behind it."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient: so.Mapped[str] = so.mapped_column(sa.String(EMAIL_MAX))
    subject: so.Mapped[str] = so.mapped_column(sa.String(255))
    text_body: so.Mapped[str] = so.mapped_column(sa.Text)
    html_body: so.Mapped[str] = so.mapped_column(sa.Text)
    # Extra headers as JSON text, e.g. List-Unsubscribe.
    headers: so.Mapped[str | None] = so.mapped_column(sa.Text)
    attachment_path: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    attachment_name: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    attachment_type: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=OutboxStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.status} to {self.recipient}>"
