"""Signed-in browser sessions, one row each, so that one can be listed and ended on its own."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

USER_AGENT_MAX = 400
SESSION_LABEL_MAX = 80
IP_MAX = 45  # the longest textual IPv6 address (with an embedded IPv4 one)


class UserSession(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """One browser's sign-in to one account.

    The browser holds a random key (in the session and remember-me cookies); the row keeps only its
    SHA-256, so a database leak signs nobody in. ``device_hash`` is the SHA-256 of the browser's
    long-lived device cookie: a sign-in from a browser the account has never used is told to its owner.
    A revoked row stays (``revoked_at``) so the device is still known the next time.
    """

    __tablename__ = "user_session"
    __table_args__ = (sa.Index("ix_user_session_user_id_device_hash", "user_id", "device_hash"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    device_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(IP_MAX))
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(USER_AGENT_MAX), default="")
    label: so.Mapped[str] = so.mapped_column(sa.String(SESSION_LABEL_MAX), default="")
    remembered: so.Mapped[bool] = so.mapped_column(default=False)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
