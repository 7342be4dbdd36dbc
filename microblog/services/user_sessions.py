"""Signed-in sessions: starting one at sign-in, listing them, ending one or all the others, and telling
the owner about a sign-in from a browser the account has never used.

A session is a ``UserSession`` row; the browser holds its random key (sessions.py puts it in the
session and remember-me cookies) and the row keeps only the key's SHA-256. The browser also holds a
long-lived random device token, kept on each row as a digest: a sign-in whose device token is on no row
of the account is a new browser, and its owner is mailed (not for an account's very first sign-in).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import mail, user_agents
from microblog.exceptions import NotFound
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.logs import security_event
from microblog.models import IP_MAX, USER_AGENT_MAX, User, UserSession
from microblog.services import audit
from microblog.timeutil import utcnow

# last_seen_at and the address are written at most this often per session (one small UPDATE).
TOUCH_INTERVAL = timedelta(minutes=5)
KEY_BYTES = 24  # 32 URL-safe characters
KEY_MAX = 64  # a longer key in a cookie is not one of ours
DEVICE_TOKEN_MAX = 100
# Ended sessions are kept so their browser stays known; one unseen this long is forgotten (deleted at
# the account's next sign-in), and that browser counts as new again.
KNOWN_DEVICE_FOR = timedelta(days=365)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_device_token() -> str:
    """A random token naming one browser, for the long-lived device cookie."""
    return secrets.token_urlsafe(32)


def valid_device_token(token: str | None) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= DEVICE_TOKEN_MAX and token.isascii()


def start_session(user: User, *, ip_address: str | None, user_agent: str | None, device_token: str,
                  remembered: bool, announce: bool = True) -> str:
    """A new session row for ``user`` signing in on one browser; returns its key (never stored).

    When ``announce`` is on and the account has signed in before, but never with ``device_token``, the
    owner is mailed "New sign-in to your account" and the sign-in is audited. The first sign-in of an
    account, and one right after signing up (``announce`` off), send nothing.
    """
    key = secrets.token_urlsafe(KEY_BYTES)
    device_hash = digest(device_token)
    db.session.execute(sa.delete(UserSession).where(
        UserSession.user_id == user.id, UserSession.last_seen_at < utcnow() - KNOWN_DEVICE_FOR))
    new_device = announce and _has_sessions(user) and not _knows_device(user, device_hash)
    agent = (user_agent or "")[:USER_AGENT_MAX]
    row = UserSession(
        user_id=user.id, key_hash=digest(key), device_hash=device_hash, ip_address=_clean_ip(ip_address),
        user_agent=agent, label=user_agents.describe(agent), remembered=bool(remembered),
    )
    db.session.add(row)
    if not new_device:
        db.session.commit()
        return key
    db.session.flush()  # the row's id and times, for the entry and the mail
    audit.record(user, audit.NEW_DEVICE_SIGN_IN, user, details=_details(row))
    message = mail.queue_email(
        user.email, _l("New sign-in to your account"), "new_sign_in", locale=user.locale, user=user,
        when=row.created_at, ip_address=row.ip_address or "?", browser=user_agents.localized(agent),
        sessions_url=external_url("account_sessions.show"), url=external_url("auth.reset_password_request"),
    )
    db.session.commit()
    mail.dispatch(message)
    security_event("login.new_device", user_id=user.id, session_id=row.id)
    return key


def _has_sessions(user: User) -> bool:
    found = db.session.scalar(sa.select(UserSession.id).where(UserSession.user_id == user.id).limit(1))
    return found is not None


def _knows_device(user: User, device_hash: str) -> bool:
    return db.session.scalar(sa.select(UserSession.id).where(
        UserSession.user_id == user.id, UserSession.device_hash == device_hash).limit(1)) is not None


def _clean_ip(ip_address: str | None) -> str | None:
    return ip_address[:IP_MAX] if ip_address else None


def _details(row: UserSession) -> str:
    return f"session {row.id}: {row.label}, {row.ip_address or '?'}"[:255]


# -- what is signed in ---------------------------------------------------------------------------
def lifetime() -> timedelta:
    """How long a session can last unseen: the longer of the session and remember-me cookies' lives."""
    config = current_app.config
    return max(config["PERMANENT_SESSION_LIFETIME"], config["REMEMBER_COOKIE_DURATION"])


def active_sessions_select(user: User) -> sa.Select:
    """The account's sessions that may still sign in: not revoked, seen within their lifetime; the most
    recently active first."""
    return (sa.select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                   UserSession.last_seen_at >= utcnow() - lifetime())
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))


def active_sessions(user: User) -> list[UserSession]:
    return list(db.session.scalars(active_sessions_select(user)))


def touch(session_id: int, last_seen_at: datetime | None, ip_address: str | None) -> None:
    """Note that a session was used now, from ``ip_address``: at most once per ``TOUCH_INTERVAL`` (the
    caller passes the time it read with the account, so a fresh session costs no statement at all)."""
    now = utcnow()
    if last_seen_at is not None and now - last_seen_at < TOUCH_INTERVAL:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at < now - TOUCH_INTERVAL)
        .values(last_seen_at=now, ip_address=_clean_ip(ip_address))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# -- ending sessions -----------------------------------------------------------------------------
def _revoke(*conditions: Any) -> int:
    result = db.session.execute(
        sa.update(UserSession).where(UserSession.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE: a cursor result


def end_session(user: User, key: str) -> None:
    """Sign out: the session with this key stops working (this browser's, and any copy of its cookie)."""
    _revoke(UserSession.user_id == user.id, UserSession.key_hash == digest(key))
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Make every session and remember-me cookie of ``user`` stop working (password change and reset):
    the account's version moves on and every row is revoked. The caller commits."""
    user.session_version = (user.session_version or 0) + 1
    _revoke(UserSession.user_id == user.id)


def revoke_session(user: User, session_id: int) -> UserSession:
    """Sign out one of ``user``'s sessions (from the sessions page or the API).

    :raises NotFound: no such session of this user, or it has ended already.
    """
    row = db.session.scalar(active_sessions_select(user).where(UserSession.id == session_id))
    if row is None:
        raise NotFound(_("That session does not exist or has already ended."))
    row.revoked_at = utcnow()
    audit.record(user, audit.SESSION_REVOKED, user, details=_details(row))
    db.session.commit()
    security_event("session.revoked", user_id=user.id, session_id=row.id)
    return row


def sign_out_other_sessions(user: User, keep_session_id: int | None) -> int:
    """End every session of ``user`` but ``keep_session_id`` (the one asking). The account's session
    version moves on too, so sessions from before session rows existed end as well; the caller signs
    its own browser in again with the new version (sessions.stay_signed_in). Returns how many ended."""
    conditions: list[Any] = [UserSession.user_id == user.id]
    if keep_session_id is not None:
        conditions.append(UserSession.id != keep_session_id)
    count = _revoke(*conditions)
    user.session_version = (user.session_version or 0) + 1
    audit.record(user, audit.SESSIONS_OTHERS_ENDED, user, details=f"{count} ended")
    db.session.commit()
    security_event("session.others_ended", user_id=user.id, count=count)
    return count
