"""Changing an account's email address: asked for with the password (and a two-factor code), confirmed
by a link to the new address, undoable for 7 days by a link to the old one.

Nothing changes until the new address proves it reads its mail. Then the old address is told, with a
link that puts it back, ends every session and API token, and asks for a new password: whoever took
over an account and moved it to their own address loses it again. Both links are random tokens kept as
SHA-256 digests (models/email_change.py) and spent once, by an UPDATE that checks and spends together.

An address that already belongs to another account gets the same answer as a free one (the page must
not tell which addresses have accounts): the request is recorded alike, but its confirmation link is
never sent; the address's owner is told someone tried to use it instead.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import mail
from microblog.exceptions import ConflictError, ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.logs import digest, security_event
from microblog.models import EmailChange, User
from microblog.services import accounts, audit, two_factor
from microblog.timeutil import utcnow

CONFIRM_VALID = timedelta(hours=24)
UNDO_VALID = timedelta(days=7)
TOKEN_MAX = 200  # a token is 43 characters; anything much longer is no token


@dataclass(frozen=True)
class Pending:
    """A change waiting for the new address to confirm it."""

    email: str
    requested_at: datetime
    expires_at: datetime


def masked(address: str) -> str:
    """``n***@example.org``: enough for the owner to recognise, not enough to read an address off a mail."""
    local, _sep, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _digest(token: str) -> str:
    return hashlib.sha256(f"microblog-email-change:{token}".encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _digest(token)


# -- asking -------------------------------------------------------------------------------------
def pending_change(user: User) -> Pending | None:
    """The change of ``user``'s address waiting for confirmation, if any and not expired."""
    change = _pending_row(user)
    if change is None:
        return None
    return Pending(change.new_email, change.created_at, change.confirm_expires_at)


def _pending_row(user: User) -> EmailChange | None:
    return db.session.scalar(sa.select(EmailChange).where(
        EmailChange.user_id == user.id, EmailChange.confirmed_at.is_(None),
        EmailChange.confirm_expires_at > utcnow(),
    ).order_by(EmailChange.id.desc()).limit(1))


def request_change(user: User, new_email: str, password: str | None, otp: str | None = None) -> Pending:
    """Record that ``user`` wants ``new_email`` and mail that address a confirmation link (24 hours,
    single use); an earlier pending request is replaced. Needs the password and, with two-factor sign-in
    on, a code (which is spent).

    :raises ValidationError: a malformed address, the current one, a wrong password or code.
    """
    address = accounts.normalize_email(new_email or "")
    if not accounts.is_valid_email(address):
        raise ValidationError(_("Please enter a valid email address."), field="email")
    if address == user.email:
        raise ValidationError(_("This is already your address."), field="email")
    if not user.check_password(password or ""):
        security_event("email.change_refused", logging.WARNING, user_id=user.id, reason="wrong_password")
        raise ValidationError(_("Your password is not correct."), field="password")
    if user.two_factor_enabled and two_factor.verify_code(user, otp) is None:
        security_event("email.change_refused", logging.WARNING, user_id=user.id, reason="wrong_code")
        raise ValidationError(two_factor.invalid_code_message(), field="otp")

    _drop_pending(user)
    token, token_hash = _new_token()
    now = utcnow()
    change = EmailChange(user_id=user.id, old_email=user.email, new_email=address, created_at=now,
                         confirm_hash=token_hash, confirm_expires_at=now + CONFIRM_VALID)
    db.session.add(change)
    audit.record(user, audit.EMAIL_CHANGE_REQUESTED, user, details=address)
    owner = db.session.scalar(sa.select(User).where(User.email == address))
    if owner is not None:
        # The link is never sent: the row only makes the answer the same as for a free address.
        message = _queue(owner.email, owner.locale, _l("Someone tried to use your address"),
                         "email_change_attempt", user=owner, url=external_url("auth.reset_password_request"))
    else:
        message = _queue(address, user.locale, _l("Confirm your new email address"), "email_change_confirm",
                         user=user, url=external_url("email_change.confirm", token=token),
                         hours=int(CONFIRM_VALID.total_seconds() // 3600))
    db.session.commit()
    mail.dispatch(message)
    security_event("email.change_requested", user_id=user.id, address=digest(address),
                   taken=True if owner is not None else None)
    return Pending(change.new_email, change.created_at, change.confirm_expires_at)


def cancel_change(user: User) -> bool:
    """Forget ``user``'s pending change (its link stops working). True when there was one."""
    dropped = _drop_pending(user)
    db.session.commit()
    if dropped:
        security_event("email.change_cancelled", user_id=user.id)
    return dropped > 0


def _drop_pending(user: User) -> int:
    """Delete every unconfirmed change of ``user`` (the caller commits); how many there were."""
    result: sa.CursorResult = db.session.execute(  # type: ignore[assignment]  # a DELETE: a cursor result
        sa.delete(EmailChange).where(EmailChange.user_id == user.id, EmailChange.confirmed_at.is_(None))
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


# -- the link to the new address ----------------------------------------------------------------
def _by_token(column: Any, token: str | None) -> EmailChange | None:
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX:
        return None
    return db.session.scalar(sa.select(EmailChange).where(column == _digest(token)))


def change_for_confirm_token(token: str | None) -> EmailChange | None:
    """The pending change a confirmation link belongs to, while it can still be confirmed."""
    change = _by_token(EmailChange.confirm_hash, token)
    if change is None or change.confirmed_at is not None or change.confirm_expires_at <= utcnow():
        return None
    return change


def confirm_change(token: str) -> User:
    """Move the account to the new address (now confirmed) and mail the old one a notice with a link that
    undoes it for 7 days.

    :raises ValidationError: the link is invalid, used, replaced or expired.
    :raises ConflictError: the address was taken by another account in the meantime.
    """
    change = change_for_confirm_token(token)
    user = db.session.get(User, change.user_id) if change is not None else None
    if change is None or user is None or user.email != change.old_email:
        raise ValidationError(_("This confirmation link is invalid or has expired."))
    if accounts.email_taken(change.new_email):
        security_event("email.change_refused", logging.WARNING, user_id=user.id, reason="taken_since")
        raise ConflictError(_("This address now belongs to another account; your address did not change."))
    now = utcnow()
    undo_token, undo_hash = _new_token()
    if not _spend(EmailChange.confirmed_at, change.id, {"confirmed_at": now, "undo_hash": undo_hash,
                                                       "undo_expires_at": now + UNDO_VALID},
                  EmailChange.confirm_expires_at > now):
        raise ValidationError(_("This confirmation link is invalid or has expired."))
    user.email = change.new_email
    user.confirmed_at = now  # the link proved they read mail there
    audit.record(user, audit.EMAIL_CHANGED, user, details=f"{change.old_email} -> {change.new_email}"[:255])
    message = _queue(change.old_email, user.locale, _l("Your email address was changed"), "email_changed",
                     user=user, new_address=masked(change.new_email),
                     url=external_url("email_change.undo", token=undo_token),
                     days=UNDO_VALID.days)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # another account took the address at the same moment
        db.session.rollback()
        raise ConflictError(_("This address now belongs to another account; your address did not change.")) \
            from exc
    mail.dispatch(message)
    security_event("email.changed", user_id=user.id, old=digest(change.old_email),
                   new=digest(change.new_email))
    return user


# -- the link to the old address ----------------------------------------------------------------
def change_for_undo_token(token: str | None) -> EmailChange | None:
    """The confirmed change an undo link belongs to, while it can still be undone (7 days, once)."""
    change = _by_token(EmailChange.undo_hash, token)
    if (change is None or change.undone_at is not None or change.undo_expires_at is None
            or change.undo_expires_at <= utcnow()):
        return None
    return change


def undo_change(token: str) -> User:
    """Put the old address back, end every session, remembered device and API token of the account, and
    drop any pending change and the account's other undo links: the caller asks the person to choose a
    new password.

    The old address comes back whatever the account's address is now: someone who took the account
    over may have changed it again since.

    :raises ValidationError: the link is invalid, used or expired.
    :raises ConflictError: the old address belongs to another account now.
    """
    change = change_for_undo_token(token)
    user = db.session.get(User, change.user_id) if change is not None else None
    if change is None or user is None:
        raise ValidationError(_("This link is invalid or has expired."))
    if user.email != change.old_email and accounts.email_taken(change.old_email):
        raise ConflictError(_("Your old address belongs to another account now. Please contact the site's "
                              "administrators."))
    now = utcnow()
    if not _spend(EmailChange.undone_at, change.id, {"undone_at": now}, EmailChange.undo_expires_at > now):
        raise ValidationError(_("This link is invalid or has expired."))
    replaced = user.email
    user.email = change.old_email
    user.confirmed_at = now
    _drop_pending(user)
    # Every other undo link of the account stops working: one mailed to an address the intruder moved
    # the account to (a second change) would otherwise take it back from its owner.
    db.session.execute(sa.update(EmailChange).where(
        EmailChange.user_id == user.id, EmailChange.id != change.id, EmailChange.undone_at.is_(None),
        EmailChange.undo_hash.is_not(None)).values(undo_hash=None, undo_expires_at=None)
        .execution_options(synchronize_session=False))
    accounts.end_sessions_and_tokens(user)
    audit.record(user, audit.EMAIL_CHANGE_UNDONE, user, details=f"{replaced} -> {change.old_email}"[:255])
    db.session.commit()
    security_event("email.change_undone", logging.WARNING, user_id=user.id, restored=digest(change.old_email))
    return user


# -- helpers ------------------------------------------------------------------------------------
def _spend(stamp: Any, change_id: int, values: dict[str, Any], *still_valid: Any) -> bool:
    """Mark a link used in the statement that checks it unused, so two requests cannot both spend it."""
    spent: sa.CursorResult = db.session.execute(  # type: ignore[assignment]  # an UPDATE: a cursor result
        sa.update(EmailChange).where(EmailChange.id == change_id, stamp.is_(None), *still_valid)
        .values(**values).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        db.session.rollback()
        return False
    return True


def _queue(recipient: str, locale: str | None, subject: Any, template: str, **context: Any):
    """Queue one message in the reader's language (the caller commits it with the change, then dispatches)."""
    return mail.queue_email(recipient, subject, template, locale=locale, **context)
