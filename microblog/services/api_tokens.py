"""API bearer tokens: issue, look up and revoke. Tokens are random; only their hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from microblog.exceptions import NotFound
from microblog.extensions import db
from microblog.logs import security_event
from microblog.models import Token, User
from microblog.timeutil import utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, Token]:
    """A new token for ``user``; the plain value is returned once and never stored."""
    plain = secrets.token_urlsafe(32)
    token = Token(
        user=user,
        token_hash=_digest(plain),
        expires_at=utcnow() + timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
    )
    # Expired tokens of this user are of no use to anyone: tidy them while we are here.
    db.session.execute(sa.delete(Token).where(Token.user_id == user.id, Token.expires_at < utcnow()))
    db.session.add(token)
    db.session.commit()
    security_event("token.issued", user_id=user.id, token_id=token.id)
    return plain, token


def user_for_token(plain: str) -> User | None:
    """The owner of a valid, unexpired token, or None."""
    if not plain or len(plain) > 200:
        return None
    token = db.session.scalar(sa.select(Token).where(Token.token_hash == _digest(plain)))
    if token is None or token.expires_at <= utcnow():
        return None
    return token.user


def revoke_token(plain: str) -> None:
    """Make a token unusable (revoking twice is harmless)."""
    token = db.session.scalar(sa.select(Token).where(Token.token_hash == _digest(plain)))
    if token is None:
        return
    user_id, token_id = token.user_id, token.id
    db.session.delete(token)
    db.session.commit()
    security_event("token.revoked", user_id=user_id, token_id=token_id)


def tokens_of(user: User) -> list[Token]:
    """The account's unexpired tokens, newest first (the sessions page lists them)."""
    return list(db.session.scalars(
        sa.select(Token).where(Token.user_id == user.id, Token.expires_at > utcnow())
        .order_by(Token.created_at.desc(), Token.id.desc())))


def revoke_token_of(user: User, token_id: int) -> None:
    """Revoke one of ``user``'s tokens by its id (the sessions page: the plain value is long gone).

    :raises NotFound: no such token of this user.
    """
    token = db.session.scalar(sa.select(Token).where(Token.id == token_id, Token.user_id == user.id))
    if token is None:
        raise NotFound(_("That API token does not exist or has already been revoked."))
    db.session.delete(token)
    db.session.commit()
    security_event("token.revoked", user_id=user.id, token_id=token_id, reason="settings")


def revoke_all_tokens(user: User) -> int:
    """Make every token of ``user`` unusable (password change and reset); the caller commits.
    Returns how many there were."""
    result = db.session.execute(
        sa.delete(Token).where(Token.user_id == user.id).execution_options(synchronize_session=False)
    )
    if result.rowcount:
        security_event("token.revoked", user_id=user.id, count=result.rowcount, reason="password")
    return result.rowcount


def token_fingerprint(plain: str) -> str:
    """A short, non-secret name for a token (for rate-limit counters and logs)."""
    return _digest(plain)[:16]
