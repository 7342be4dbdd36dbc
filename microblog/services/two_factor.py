"""Two-factor sign-in rules: enrolment, codes from the app and recovery codes, turning it off,
remembered devices and the staff requirement.

A code from the app works once: the last time step accepted is stored, and a code of that step or an
earlier one is refused. Recovery codes are stored as digests and spent once each. Every change is
audited, logged and mailed to the owner. The routes never tell which part of a refused code was wrong:
``INVALID_CODE`` is the one answer.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from microblog import mail, signed_tokens, totp
from microblog.exceptions import ConflictError, ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.logs import security_event
from microblog.models import RecoveryCode, User
from microblog.services import audit, site_settings
from microblog.timeutil import utcnow

RECOVERY_CODE_COUNT = 10
# 16 characters from 31 that cannot be mistaken for one another (no 0/o, 1/l/i): 79 random bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 16
DEVICE_PURPOSE = "two-factor-device"


def invalid_code_message() -> str:
    return _("That code is not valid.")


# -- enrolment ----------------------------------------------------------------------------------
def _check_password(user: User, password: str | None, event: str) -> None:
    if not user.check_password(password or ""):
        security_event(event, logging.WARNING, user_id=user.id, reason="wrong_password")
        raise ValidationError(_("Your password is not correct."), field="password")


def begin_enrolment(user: User, password: str) -> str:
    """Give ``user`` a new secret, pending until a code from it is confirmed; returns the secret.

    :raises ValidationError: the password is wrong.
    :raises ConflictError: two-factor sign-in is already on.
    """
    if user.two_factor_enabled:
        raise ConflictError(_("Two-factor authentication is already on."))
    _check_password(user, password, "2fa.enrol_refused")
    user.totp_secret = totp.new_secret()
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.commit()
    return user.totp_secret


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment not yet confirmed (the only time it is ever shown), else None."""
    return user.totp_secret if user.totp_secret and user.totp_enabled_at is None else None


def provisioning_uri(user: User, secret: str) -> str:
    return totp.provisioning_uri(secret, user.username, current_app.config["TWO_FACTOR_ISSUER"])


def confirm_enrolment(user: User, code: str | None) -> list[str]:
    """Turn two-factor sign-in on once ``code`` proves the app has the pending secret. Returns the new
    recovery codes, in clear for the only time.

    :raises ValidationError: no enrolment is pending, or the code is not valid.
    """
    secret = pending_secret(user)
    step = totp.matching_step(secret, code) if secret else None
    if step is None:
        security_event("2fa.confirm_refused", logging.WARNING, user_id=user.id)
        raise ValidationError(invalid_code_message(), field="code")
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.two_factor_nonce = (user.two_factor_nonce or 0) + 1
    codes = _replace_recovery_codes(user)
    audit.record(user, audit.TWO_FACTOR_ON, user)
    _mail(user, _l("Two-factor authentication is on"), "two_factor_enabled")
    security_event("2fa.enabled", user_id=user.id)
    return codes


def disable(user: User, password: str, code: str | None) -> None:
    """Turn two-factor sign-in off: needs the password and a code from the app (or a recovery code).
    Remembered devices are forgotten and the recovery codes deleted.

    :raises ValidationError: the password or the code is wrong, or it is not on.
    """
    if not user.two_factor_enabled:
        raise ValidationError(_("Two-factor authentication is not on."))
    _check_password(user, password, "2fa.disable_refused")
    if verify_code(user, code) is None:
        raise ValidationError(invalid_code_message(), field="code")
    _clear(user)
    audit.record(user, audit.TWO_FACTOR_OFF, user)
    _mail(user, _l("Two-factor authentication is off"), "two_factor_disabled")
    security_event("2fa.disabled", user_id=user.id)


def reset_by_operator(user: User, reason: str) -> None:
    """Turn two-factor sign-in off for someone who lost both the phone and the recovery codes, from the
    command line (``flask users reset-2fa``), after the operator checked who is asking. Audited with the
    reason; the owner is mailed as for turning it off.
    """
    _clear(user)
    audit.record(None, audit.TWO_FACTOR_OFF, user, reason=audit.clean_reason(reason))
    _mail(user, _l("Two-factor authentication is off"), "two_factor_disabled")
    security_event("2fa.reset_by_operator", user_id=user.id)


def _clear(user: User) -> None:
    """Forget the secret, the recovery codes and the remembered devices (the caller commits)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    forget_devices(user)
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def regenerate_recovery_codes(user: User, password: str) -> list[str]:
    """New recovery codes (the old ones stop working), for a user who knows the password.

    :raises ValidationError: the password is wrong, or two-factor sign-in is not on.
    """
    if not user.two_factor_enabled:
        raise ValidationError(_("Two-factor authentication is not on."))
    _check_password(user, password, "2fa.recovery_refused")
    codes = _replace_recovery_codes(user)
    audit.record(user, audit.TWO_FACTOR_RECOVERY_CODES, user)
    db.session.commit()
    security_event("2fa.recovery_codes_replaced", user_id=user.id)
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def _replace_recovery_codes(user: User) -> list[str]:
    """Delete the account's recovery codes and add ten new ones (the caller commits)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    digests = [_recovery_digest(user.id, code.replace("-", "")) for code in codes]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=digest) for digest in digests)
    return codes


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4))


def _normalize(code: str | None) -> str | None:
    """A recovery code as typed, lower-case without spaces and hyphens; None if it cannot be one."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    cleaned = code.replace("-", "").replace(" ", "").strip().lower()
    if len(cleaned) != RECOVERY_LENGTH or any(char not in RECOVERY_ALPHABET for char in cleaned):
        return None
    return cleaned


def _recovery_digest(user_id: int, normalized: str) -> str:
    return hashlib.sha256(f"microblog-recovery:{user_id}:{normalized}".encode()).hexdigest()


# -- signing in ---------------------------------------------------------------------------------
def verify_code(user: User, code: str | None) -> str | None:
    """Spend ``code``: a code from the app not used before, or an unspent recovery code. Returns
    "totp" or "recovery_code", or None when it is neither (the caller commits nothing else)."""
    if not user.two_factor_enabled or not isinstance(code, str):
        return None
    if totp.normalize_code(code) is not None:
        if _spend_step(user, code):
            return "totp"
    elif _spend_recovery_code(user, code):
        return "recovery_code"
    security_event("2fa.code_refused", logging.WARNING, user_id=user.id)
    return None


def _spend_step(user: User, code: str) -> bool:
    """True when ``code`` is the app's code for a step later than the last one used; the step is then
    stored in the same statement that checks it, so two requests cannot both spend it."""
    step = totp.matching_step(user.totp_secret or "", code)
    if step is None:
        return False
    spent: sa.CursorResult = db.session.execute(  # type: ignore[assignment]  # an UPDATE: a cursor result
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if spent.rowcount != 1:
        security_event("2fa.code_replayed", logging.WARNING, user_id=user.id)
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _spend_recovery_code(user: User, code: str) -> bool:
    normalized = _normalize(code)
    if normalized is None:
        return False
    spent: sa.CursorResult = db.session.execute(  # type: ignore[assignment]  # an UPDATE: a cursor result
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
               RecoveryCode.code_hash == _recovery_digest(user.id, normalized))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if spent.rowcount != 1:
        return False
    security_event("2fa.recovery_code_used", user_id=user.id, left=recovery_codes_left(user))
    return True


def staff_requirement_applies(user: Any) -> bool:
    """True when the site requires two-factor sign-in of moderators and admins (the server's environment
    or an administrator's setting) and ``user`` is one. Nobody else costs a query."""
    return bool(getattr(user, "is_staff", False)) and site_settings.staff_two_factor_required()


def staff_must_enrol(user: Any) -> bool:
    """True when the site requires two-factor sign-in of ``user``'s role and it is not on yet."""
    return staff_requirement_applies(user) and not user.two_factor_enabled


# -- remembered devices -------------------------------------------------------------------------
def forget_devices(user: User) -> None:
    """Make every "remember this device" cookie of ``user`` stop working (the caller commits)."""
    user.two_factor_nonce = (user.two_factor_nonce or 0) + 1


def device_token(user: User) -> str:
    """The signed value of a "remember this device" cookie for ``user``."""
    return signed_tokens.make_token(DEVICE_PURPOSE, {"id": user.id, "n": user.two_factor_nonce or 0})


def device_remembered(user: User, token: str | None) -> bool:
    """True when ``token`` is a recent, authentic device cookie of ``user`` issued since the last change
    to two-factor sign-in or to the password."""
    max_age = current_app.config["TWO_FACTOR_REMEMBER_DAYS"] * 24 * 3600
    payload = signed_tokens.read_token(DEVICE_PURPOSE, token or "", max_age)
    return (payload is not None and payload.get("id") == user.id
            and payload.get("n") == (user.two_factor_nonce or 0) and user.two_factor_enabled)


# -- mail -----------------------------------------------------------------------------------------
def _mail(user: User, subject: Any, template: str) -> None:
    """Queue the notice, commit it with the change, then start delivering it."""
    message = mail.queue_email(user.email, subject, template, locale=user.locale, user=user,
                               url=external_url("auth.reset_password_request"))
    db.session.commit()
    mail.dispatch(message)
