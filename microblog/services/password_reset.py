"""Forgotten passwords: the emailed reset link, and choosing a new password from it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import jobs, signed_tokens
from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.logs import digest, security_event
from microblog.models import User
from microblog.services import accounts
from microblog.timeutil import utcnow


def request_password_reset(email: str, client_ip: str | None = None) -> None:
    """Mail a reset link if an account has this address. Says nothing either way (no enumeration),
    and takes as long either way: all that depends on the address being known (the lookup, the
    token, the queued mail and its row) happens in a background job, so the request does the same
    work for every address. ``client_ip`` goes into the job's security log line."""
    address = accounts.normalize_email(email)
    if "\x00" in address:
        return
    jobs.enqueue(send_password_reset, address, client_ip)


@jobs.task
def send_password_reset(address: str, client_ip: str | None = None) -> None:
    """The background half of :func:`request_password_reset`: find the account, mail it the link."""
    user = db.session.scalar(sa.select(User).where(User.email == address))
    if user is None:
        security_event("reset.requested", address=digest(address), known=False, ip=client_ip)
        return
    security_event("reset.requested", address=digest(address), user_id=user.id, ip=client_ip)
    accounts.mail_user(user, _l("Reset your password"), "reset_password",
               url=external_url("auth.reset_password", token=signed_tokens.reset_token(user)),
               minutes=current_app.config["RESET_TOKEN_MAX_AGE"] // 60)


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; the link stops working once used.

    :raises ValidationError: the link is invalid, used or expired, or the password breaks the rules.
    """
    user = signed_tokens.user_for_reset_token(token)
    if user is None:
        raise ValidationError(_("This password reset link is invalid or has expired."))
    accounts.check_password_rules(password)
    user.set_password(password)
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()  # they proved they read mail at this address
    accounts.end_sessions_and_tokens(user)
    db.session.commit()
    security_event("reset.done", user_id=user.id)
    return user
