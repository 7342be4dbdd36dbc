"""Signed, expiring tokens for links sent by email: password reset, address confirmation, unsubscribe."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from microblog.extensions import db
from microblog.models import User

RESET = "password-reset"
CONFIRM = "confirm-email"
UNSUBSCRIBE = "unsubscribe"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # A salt per purpose: a confirmation token can never be replayed as a reset token.
    # Keys oldest first, the current one last: it signs, and links signed with a key in
    # SECRET_KEY_FALLBACKS (before a rotation) still verify.
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or []), current_app.config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=f"microblog-{purpose}")


def _password_stamp(user: User) -> str:
    """Changes whenever the password does, which makes reset links single-use."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int | None = None) -> dict[str, Any] | None:
    """The payload of a valid token, or None when it is forged, altered or expired."""
    if not token or len(token) > 1000:
        return None
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return payload if isinstance(payload, dict) else None


def reset_token(user: User) -> str:
    return make_token(RESET, {"id": user.id, "pw": _password_stamp(user)})


def user_for_reset_token(token: str) -> User | None:
    """The user a reset link belongs to, if the link is authentic, recent and not yet used."""
    payload = read_token(RESET, token, current_app.config["RESET_TOKEN_MAX_AGE"])
    if not payload or not isinstance(payload.get("id"), int):
        return None
    user = db.session.get(User, payload["id"])
    if user is None or payload.get("pw") != _password_stamp(user):
        return None
    return user


def confirm_token(user: User) -> str:
    return make_token(CONFIRM, {"id": user.id, "email": user.email})


def user_for_confirm_token(token: str) -> User | None:
    payload = read_token(CONFIRM, token, current_app.config["CONFIRM_TOKEN_MAX_AGE"])
    if not payload or not isinstance(payload.get("id"), int):
        return None
    user = db.session.get(User, payload["id"])
    if user is None or payload.get("email") != user.email:
        return None
    return user


def unsubscribe_token(user: User, kind: str) -> str:
    return make_token(UNSUBSCRIBE, {"id": user.id, "kind": kind})


def read_unsubscribe_token(token: str) -> tuple[User, str] | None:
    payload = read_token(UNSUBSCRIBE, token)
    if not payload or not isinstance(payload.get("id"), int) or not isinstance(payload.get("kind"), str):
        return None
    user = db.session.get(User, payload["id"])
    return (user, payload["kind"]) if user is not None else None
