"""Signed-in sessions that the server can end, one at a time or all at once.

Flask-Login keeps ``User.get_id()`` (models/users.py) in the session cookie and in the remember-me
cookie: ``"<id>:<session_version>:<key>"``. The key is a random secret naming one ``UserSession`` row
(services/user_sessions.py keeps only its digest); the user loader refuses a cookie whose row is
missing or revoked, or whose version is not the account's current one. Signing out revokes this
browser's row only; a password change or reset, and "sign out all other sessions", move the version
on, which ends every other session and remember-me cookie of the account at once, including copies of
a cookie taken before and sessions from before rows existed (``"<id>:<version>"``, still accepted as
legacy sessions until then). The row comes in the statement that loads the account (an outer join),
so checking it costs no query.

Every sign-in also gives the browser a long-lived random device cookie (``DEVICE_COOKIE``), so that a
sign-in from a browser the account has never used can be told to its owner.

Signing in and signing out also replace the session's CSRF token, so that a token planted in the
browser before (or read from a page shown to the previous user) does not work across the change.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import Flask, after_this_request, current_app, g, request, session
from flask_login import login_user, user_logged_in, user_logged_out
from flask_login.utils import decode_cookie
from werkzeug.wrappers import Response

from microblog.extensions import db
from microblog.models import User, UserSession
from microblog.services import accounts, notifications, user_sessions

REMEMBER_COOKIE = "remember_token"  # Flask-Login's default REMEMBER_COOKIE_NAME
DEVICE_COOKIE = "device"
DEVICE_COOKIE_DAYS = 730
SESSION_ID_MAX = 40 + 1 + user_sessions.KEY_MAX


def parse_session_id(raw: object) -> tuple[int, int, str | None] | None:
    """(user id, version, session key) from a stored session id, or None. The key is None for a legacy
    "<id>:<version>" id, and a bare id (a cookie from before versions existed) counts as version 0, so
    both stop working at the account's next version change."""
    if not isinstance(raw, str) or len(raw) > SESSION_ID_MAX:
        return None
    ident, _sep, rest = raw.partition(":")
    version, _sep2, key = rest.partition(":")
    if not ident.isdigit() or not (version.isdigit() or (not _sep and not version)):
        return None
    if _sep2 and not (key and key.isascii() and len(key) <= user_sessions.KEY_MAX):
        return None
    user_id, number = int(ident), int(version or 0)
    if not 0 < user_id < 2**63 or number >= 2**31:
        return None
    return user_id, number, key or None


@cache
def _account_with_badge() -> sa.Select:
    """The account, its unread notification count and the cookie's session row (if any): one statement,
    built once (every request runs it)."""
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    key_hash = sa.bindparam("key_hash", type_=sa.String)
    return (
        sa.select(User, notifications.unread_count_select(account_id).scalar_subquery(),
                  UserSession.id, UserSession.revoked_at, UserSession.last_seen_at)
        .outerjoin(UserSession, sa.and_(UserSession.user_id == User.id, UserSession.key_hash == key_hash))
        .where(User.id == account_id)
    )


def load_user(raw: str) -> User | None:
    """Flask-Login's user loader: the account, if the cookie's version is still its current one and its
    session has not been revoked."""
    parsed = parse_session_id(raw)
    if parsed is None:
        return None
    user_id, version, key = parsed
    # The navbar's unread count comes with the account, in the same statement (every page shows it).
    row = db.session.execute(
        _account_with_badge(), {"account_id": user_id, "key_hash": user_sessions.digest(key) if key else None}
    ).first()
    user = row[0] if row is not None else None
    if row is not None:
        g.unread_notifications = row[1] or 0
    ended = key is not None and (row is None or row[2] is None or row[3] is not None)
    if user is None or ended or (user.session_version or 0) != version:
        # An ended session: forget it, and drop the remember-me cookie that would bring it back.
        session.pop("_user_id", None)
        if request.cookies.get(remember_cookie_name()):
            session["_remember"] = "clear"
        return None
    assert row is not None
    user.session_key = key  # type: ignore[attr-defined]  # read by User.get_id
    if key is not None:
        g.user_session = (row[2], row[4])
    return user


def current_session_id() -> int | None:
    """The id of this browser's session row (None for a visitor or a legacy session)."""
    found = g.get("user_session")
    return found[0] if found else None


def touch_current_session() -> None:
    """After the account is loaded: note this session's activity and address, at most every few minutes."""
    found = g.get("user_session")
    if found:
        user_sessions.touch(found[0], found[1], request.remote_addr)


def sign_in(user: User, *, remember: bool = False, announce: bool = True) -> None:
    """Sign ``user`` in on this browser with a new session row (and a device cookie if it has none).

    ``announce`` off: no "new sign-in" mail for this one (right after signing up)."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    known = cookie is not None and user_sessions.valid_device_token(cookie)
    device = cookie if cookie is not None and known else user_sessions.new_device_token()
    key = user_sessions.start_session(
        user, ip_address=request.remote_addr, user_agent=request.headers.get("User-Agent"),
        device_token=device, remembered=remember, announce=announce)
    user.session_key = key  # type: ignore[attr-defined]  # read by User.get_id
    login_user(user, remember=remember)
    _set_device_cookie(device)


def _set_device_cookie(token: str) -> None:
    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
            secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
        return response


def sign_out(user: User) -> None:
    """After ``logout_user``: end this browser's session on the server too (see accounts.sign_out)."""
    accounts.sign_out(user, getattr(user, "session_key", None))


def stay_signed_in(user: User, *, same_session: bool = False) -> None:
    """After the account's version moved on, in a request by ``user`` themself: sign this browser in
    again with the new version, and a new remember-me cookie if it had one. ``same_session`` keeps this
    browser's session row (sign out all *other* sessions); otherwise (a new password ended them all) a
    new row is started, without the new-browser mail."""
    remember = bool(request.cookies.get(remember_cookie_name()))
    if same_session and getattr(user, "session_key", None):
        login_user(user, remember=remember)
    else:
        sign_in(user, remember=remember, announce=False)


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
