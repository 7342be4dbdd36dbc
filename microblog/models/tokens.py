"""API bearer tokens, stored as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.users import User


class Token(db.Model):
    """An API bearer token. Only its SHA-256 is stored, so a database leak reveals no usable token."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User] = so.relationship()

    def __repr__(self) -> str:
        return f"<Token {self.id} of user {self.user_id}>"
