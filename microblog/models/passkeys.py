"""Passkeys (WebAuthn credentials): the public keys an account signs in with, one row per authenticator."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

PASSKEY_NAME_MAX = 64
# A credential id is at most 1023 bytes (WebAuthn Level 3, "Credential ID").
CREDENTIAL_ID_MAX = 1023


class WebAuthnCredential(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """A passkey: the authenticator keeps the private key, the site keeps the public key and the
    signature counter it last saw (a counter that goes backwards means a cloned authenticator)."""

    __tablename__ = "webauthn_credential"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_id: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary(CREDENTIAL_ID_MAX), index=True,
                                                       unique=True)
    public_key: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary())  # COSE_Key, as the library gives it
    sign_count: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    # What the browser said the authenticator speaks ("internal", "usb", "hybrid"...), comma-separated:
    # handed back in allowCredentials so the browser knows where to look.
    transports: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    name: so.Mapped[str] = so.mapped_column(sa.String(PASSKEY_NAME_MAX))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # A synced passkey (iCloud Keychain, Google Password Manager) may back up; a security key cannot.
    backup_eligible: so.Mapped[bool] = so.mapped_column(default=False)
    backed_up: so.Mapped[bool] = so.mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<WebAuthnCredential {self.id} of user {self.user_id}>"
