"""Two-factor sign-in: the single-use recovery codes (the TOTP secret and its state are on the user)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow


class RecoveryCode(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """One of the codes that sign in without the authenticator app, once each.

    Only a SHA-256 of the code (with the account's id) is kept: the codes carry 80 random bits, so
    the digest cannot be reversed by trying them, and a database leak gives nobody a usable code.
    """

    __tablename__ = "recovery_code"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # Set when the code is spent; a spent code is kept so the settings page can count what is left.
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} of user {self.user_id}>"
