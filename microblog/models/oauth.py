"""OAuth 2 for Mastodon apps: registered applications, authorization codes and access tokens.

Secrets (client secrets, codes, access tokens) are kept as SHA-256 digests only: they carry 256
random bits, so the digest cannot be reversed by trying values, and a database leak gives nobody a
usable credential.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.users import User

OAUTH_NAME_MAX = 100
OAUTH_WEBSITE_MAX = 500
# Several redirect URIs, newline separated; each is capped at OAUTH_URI_MAX when registered.
OAUTH_URI_MAX = 1000
OAUTH_REDIRECT_URIS_MAX = 4000
OAUTH_SCOPES_MAX = 1000


class OAuthApplication(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """A client application registered with POST /api/v1/apps (Mastodon's Doorkeeper application)."""

    __tablename__ = "oauth_application"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    client_secret_digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(OAUTH_NAME_MAX))
    website: so.Mapped[str | None] = so.mapped_column(sa.String(OAUTH_WEBSITE_MAX))
    redirect_uris: so.Mapped[str] = so.mapped_column(sa.String(OAUTH_REDIRECT_URIS_MAX))  # newline separated
    scopes: so.Mapped[str] = so.mapped_column(sa.String(OAUTH_SCOPES_MAX))  # space separated
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # Apps registered through the API have no owner; the column is there for apps a user makes.
    owner_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri for uri in self.redirect_uris.split("\n") if uri]

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def __repr__(self) -> str:
        return f"<OAuthApplication {self.id} {self.name!r}>"


class OAuthAuthorizationCode(db.Model):  # type: ignore[name-defined]
    """A code the consent page gave out: single use, short lived, bound to its redirect URI and PKCE."""

    __tablename__ = "oauth_authorization_code"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code_digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("oauth_application.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    scopes: so.Mapped[str] = so.mapped_column(sa.String(OAUTH_SCOPES_MAX))
    redirect_uri: so.Mapped[str] = so.mapped_column(sa.String(OAUTH_URI_MAX))
    code_challenge: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    code_challenge_method: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    application: so.Mapped[OAuthApplication] = so.relationship()
    user: so.Mapped[User] = so.relationship()


class OAuthAccessToken(db.Model):  # type: ignore[name-defined]
    """A bearer token of an application, for a user (authorization code) or for the app alone
    (client credentials). Mastodon's tokens do not expire; they end when revoked."""

    __tablename__ = "oauth_access_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # A user's token has a refresh token (digest), good once for a new pair (services.oauth.refresh).
    refresh_token_digest: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("oauth_application.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    scopes: so.Mapped[str] = so.mapped_column(sa.String(OAUTH_SCOPES_MAX))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    application: so.Mapped[OAuthApplication] = so.relationship()
    user: so.Mapped[User | None] = so.relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def __repr__(self) -> str:
        return f"<OAuthAccessToken {self.id} of app {self.application_id}>"
