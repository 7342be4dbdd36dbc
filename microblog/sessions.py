"""Signed-in sessions that the server can end.

Flask-Login keeps ``User.get_id()`` (models/users.py) in the session cookie and in the remember-me
cookie. Ours is ``"<id>:<session_version>"``, and the user loader refuses a cookie whose version is not
the account's current one. Bumping the version (logout, password change, password reset) therefore ends
every session and remember-me cookie of that account at once, on every device, including copies of a
cookie taken before. One counter per account keeps the check to the primary-key lookup that loading the
user already costs; the price is that signing out in one browser signs out all of them.

Signing in and signing out also replace the session's CSRF token, so that a token planted in the
browser before (or read from a page shown to the previous user) does not work across the change.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_login import login_user, user_logged_in, user_logged_out
from flask_login.utils import decode_cookie

from microblog.extensions import db
from microblog.models import User
from microblog.services import notifications

REMEMBER_COOKIE = "remember_token"  # Flask-Login's default REMEMBER_COOKIE_NAME


def parse_session_id(raw: object) -> tuple[int, int] | None:
    """(user id, version) from a stored session id, or None. A bare id (a cookie from before
    versions existed) counts as version 0, so it stops working at the account's first logout."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    ident, _sep, version = raw.partition(":")
    if not ident.isdigit() or not (version.isdigit() or (not _sep and not version)):
        return None
    user_id, number = int(ident), int(version or 0)
    if not 0 < user_id < 2**63 or number >= 2**31:
        return None
    return user_id, number


@cache
def _account_with_badge() -> sa.Select:
    """The account and its unread notification count, one statement built once (every request runs it)."""
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    return sa.select(User, notifications.unread_count_select(account_id).scalar_subquery()).where(
        User.id == account_id
    )


def load_user(raw: str) -> User | None:
    """Flask-Login's user loader: the account, if the cookie's version is still its current one."""
    parsed = parse_session_id(raw)
    if parsed is None:
        return None
    user_id, version = parsed
    # The navbar's unread count comes with the account, in the same statement (every page shows it).
    row = db.session.execute(_account_with_badge(), {"account_id": user_id}).first()
    user = row[0] if row is not None else None
    if row is not None:
        g.unread_notifications = row[1] or 0
    if user is None or (user.session_version or 0) != version:
        # An ended session: forget it, and drop the remember-me cookie that would bring it back.
        session.pop("_user_id", None)
        if request.cookies.get(remember_cookie_name()):
            session["_remember"] = "clear"
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Make every existing session and remember-me cookie of ``user`` stop working (the caller commits)."""
    user.session_version = (user.session_version or 0) + 1


def stay_signed_in(user: User) -> None:
    """After ``end_all_sessions`` in a request by ``user`` themself: give this browser a session with the
    new version, and a new remember-me cookie if it had one."""
    login_user(user, remember=bool(request.cookies.get(remember_cookie_name())))


def remember_cookie_name() -> str:
    return current_app.config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE)


def accept_rotated_remember_cookie() -> None:
    """Before each request: a remember-me cookie signed with a key in SECRET_KEY_FALLBACKS still works.

    Flask checks the session cookie against the fallback keys itself; Flask-Login checks the remember-me
    cookie against SECRET_KEY only. When the cookie verifies with an old key, put its id in the session
    (the user loader still checks its version) and have Flask-Login sign the cookie again with the new key.
    """
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    cookie = request.cookies.get(remember_cookie_name())
    if not fallbacks or not cookie or "_user_id" in session or len(cookie) > 300:
        return
    if decode_cookie(cookie) is not None:
        return  # signed with the current key: Flask-Login handles it
    for key in fallbacks:
        payload = decode_cookie(cookie, key=key)
        if payload is not None:
            session["_user_id"] = payload
            session["_fresh"] = False
            session["_remember"] = "set"
            return


def new_csrf_token(_sender: Any = None, **_extra: Any) -> None:
    """Forget this session's CSRF token; the next form rendered gets a new one.

    Flask-WTF keeps the raw token in the session and the signed one in ``g`` for the request; both
    go, so even a page rendered later in this request carries the new token. Connected to
    Flask-Login's signals: every sign-in (``login_user``) and sign-out (``logout_user``) runs it.
    """
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)


def register_sessions(app: Flask) -> None:
    app.before_request(accept_rotated_remember_cookie)
    user_logged_in.connect(new_csrf_token, app)
    user_logged_out.connect(new_csrf_token, app)
