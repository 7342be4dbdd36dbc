"""Account rules: registration, profile edits, authentication and activity."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import email_validator
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import i18n, mail, passwords, search, signed_tokens
from microblog.exceptions import ConflictError, ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.federation import keys, outgoing
from microblog.logs import digest, security_event
from microblog.models import (
    ABOUT_ME_MAX,
    EMAIL_MAX,
    THEMES,
    User,
    UserActivity,
    Visibility,
    followers,
    user_by_username_select,
)
from microblog.services import (
    account_deletion,
    api_tokens,
    follow_requests,
    oauth,
    stats,
    suggestions,
    two_factor,
    user_sessions,
)
from microblog.textutil import has_control_characters
from microblog.timeutil import utcnow

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,32}$")
# A remote account's username (federation): "name@domain", the domain maybe with a port.
REMOTE_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.~-]{1,100}@[A-Za-z0-9.-]{1,190}(:[0-9]{1,5})?$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
# last_seen is written at most this often, so reading pages does not mean writing rows.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    """An address the sign-up form would accept too (the API and the command line use this one)."""
    if not email or len(email) > EMAIL_MAX or "\x00" in email:
        return False
    try:
        email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


def username_taken(username: str, exclude: User | None = None) -> bool:
    """True when another account already has this name, ignoring case, or a deleted account had it
    (the name stays reserved, so nobody can pose as its former owner)."""
    user = get_user_by_username(username)
    if user is not None:
        return exclude is None or user.id != exclude.id
    return bool(USERNAME_RE.match(username)) and account_deletion.username_reserved(username)


def email_taken(email: str) -> bool:
    """True when an account already uses this address, ignoring case."""
    if "\x00" in email:  # PostgreSQL text cannot hold NUL; no stored address contains one
        return False
    return db.session.scalar(sa.select(User.id).where(User.email == normalize_email(email))) is not None


def check_username(username: str, exclude: User | None = None) -> None:
    """Raise unless ``username`` is well-formed and free."""
    if not USERNAME_RE.match(username):
        raise ValidationError(
            _("Usernames are 3 to 32 characters: letters, digits and underscores."), field="username"
        )
    if username_taken(username, exclude):
        raise ConflictError(_("That username is taken. Please choose another."), field="username")


def check_password_rules(password: str) -> None:
    """Length, and not one of the most common passwords. No composition rules (NIST 800-63B)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationError(
            _("Passwords are %(min)d to %(max)d characters long.", min=PASSWORD_MIN, max=PASSWORD_MAX),
            field="password",
        )
    if passwords.is_common(password):
        raise ValidationError(
            _("This password is one of the most common, so it is easy to guess. Please choose another."),
            field="password",
        )


def register_user(username: str, email: str, password: str) -> User | None:
    """Create an account, or None when the address already has one.

    An address already in use is not an error the caller may show (that would tell anyone which
    addresses have accounts): its owner is mailed a notice instead, the same work is done (the
    password is hashed, one email is queued), and the caller answers as for a new account.
    Usernames are public, so a taken username is still an error.

    :raises ValidationError: a malformed username, email or password.
    :raises ConflictError: the username is already in use.
    """
    username = username.strip()
    email = normalize_email(email)
    check_username(username)
    if not is_valid_email(email):
        raise ValidationError(_("Please enter a valid email address."), field="email")
    check_password_rules(password)  # before looking at the address: its errors must not depend on it
    user = User(username=username, email=email)
    user.set_password(password)
    if email_taken(email):
        _notify_sign_up_attempt(email)
        return None
    if not current_app.config["EMAIL_CONFIRMATION"]:
        user.confirmed_at = utcnow()
    db.session.add(user)
    db.session.add(UserActivity(user=user, day=utcnow().date()))  # the sign-up day counts as active
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:
        # Two sign-ups raced for the same name or address; the unique indexes decided.
        db.session.rollback()
        if username_taken(username):
            message = _("That username is taken. Please choose another.")
            raise ConflictError(message, field="username") from exc
        _notify_sign_up_attempt(email)
        return None
    search.queue_users(user.id)
    keys.queue_keys(user.id)  # the key pair its actor publishes, made in the background
    if user.confirmed_at is None:
        send_confirmation(user)
    return user


def _notify_sign_up_attempt(email: str) -> None:
    """Tell the owner of ``email`` that someone tried to open an account with it."""
    owner = db.session.scalar(sa.select(User).where(User.email == email))
    if owner is None:
        return
    mail_user(owner, _l("Someone tried to sign up with your address"), "sign_up_attempt",
               url=external_url("auth.reset_password_request"))
    security_event("signup.existing_address", user_id=owner.id)


def update_profile(
    user: User,
    username: str,
    about_me: str | None,
    notify_new_follower: bool | None = None,
    locale: str | None = None,
    timezone: str | None = None,
    notify_new_message: bool | None = None,
    *,
    notify_mention: bool | None = None,
    notify_reply: bool | None = None,
    default_visibility: str | None = None,
    theme: str | None = None,
    locked: bool | None = None,
) -> User:
    """Change a user's name, about-me text and, when given, notification, language and zone settings,
    the visibility new posts get by default and whether followers need approval (``locked``; unlocking
    approves the requests that wait).

    An empty string for ``locale`` or ``timezone`` means "follow the browser".
    """
    # Every check runs before anything is assigned: a refused save leaves the user as it was, so the
    # page that shows the error never shows an unsaved name or setting.
    username = username.strip()
    if username != user.username:
        check_username(username, exclude=user)
        if _followed_elsewhere(user):
            # The name is in the account's ActivityPub id, which other servers keep.
            raise ValidationError(_("People on other servers follow you by this name: it cannot change."),
                                  field="username")
    about_me = (about_me or "").strip() or None
    if about_me is not None and len(about_me) > ABOUT_ME_MAX:
        raise ValidationError(
            _("About me is at most %(max)d characters.", max=ABOUT_ME_MAX), field="about_me"
        )
    if about_me is not None and has_control_characters(about_me):
        raise ValidationError(_("Please remove control characters."), field="about_me")
    if locale and not i18n.supported(locale):
        raise ValidationError(_("Please choose one of the listed languages."), field="locale")
    if timezone and not i18n.valid_timezone(timezone):
        raise ValidationError(_("Please choose one of the listed time zones."), field="timezone")
    if default_visibility is not None and default_visibility not in {v.value for v in Visibility}:
        raise ValidationError(_("Please choose one of the listed visibilities."), field="default_visibility")
    if theme is not None and theme not in THEMES:
        raise ValidationError(_("Please choose one of the listed themes."), field="theme")

    if username != user.username:
        suggestions.forget_everyone()  # shown with their names: an old name would lead nowhere
    user.username = username
    user.about_me = about_me
    if notify_new_follower is not None:
        user.notify_new_follower = notify_new_follower
    if notify_new_message is not None:
        user.notify_new_message = notify_new_message
    if notify_mention is not None:
        user.notify_mention = notify_mention
    if notify_reply is not None:
        user.notify_reply = notify_reply
    if default_visibility is not None:
        user.default_visibility = default_visibility
    if locale is not None:
        user.locale = locale or None
    if theme is not None:
        user.theme = theme
    if timezone is not None:
        user.timezone = timezone or None
    unlocked = locked is False and user.locked
    if locked is not None:
        user.locked = locked
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:
        db.session.rollback()
        raise ConflictError(_("That username is taken. Please choose another."), field="username") from exc
    search.queue_users(user.id)
    if unlocked:
        follow_requests.approve_all(user)
    outgoing.profile_updated(user.id)
    return user


def _followed_elsewhere(user: User) -> bool:
    """Whether anyone on another server follows ``user`` (or asked to)."""
    remote = sa.select(User.id).where(User.domain.is_not(None))
    return bool(db.session.scalar(sa.select(sa.exists().where(
        followers.c.followed_id == user.id, followers.c.follower_id.in_(remote)))))


def authenticate(username: str, password: str) -> User | None:
    """The user whose name and password match, or None. Unknown names cost the same time."""
    user = get_user_by_username(username.strip()) if username else None
    if user is not None and account_deletion.being_deleted(user):
        user = None  # its deletion is under way: the account is as good as gone
    if user is None:
        passwords.verify_nobody(password)
        # The typed name is logged only as a digest: people type passwords into the wrong field.
        security_event("login.failure", logging.WARNING, reason="unknown_user", name=digest(username or ""))
        return None
    if not user.check_password(password):
        security_event("login.failure", logging.WARNING, reason="wrong_password", user_id=user.id)
        return None
    if passwords.needs_rehash(user.password_hash):
        # The password is at hand only now: move the account to today's hashing parameters.
        user.set_password(password)
        db.session.commit()
    if user.two_factor_enabled:
        # Half a sign-in: the code step (auth/two_factor.py, or the token endpoint) logs the success.
        security_event("login.password_ok", user_id=user.id)
    else:
        record_sign_in(user)
    return user


def record_sign_in(user: User, via: str | None = None) -> None:
    """Log a successful sign-in (``via`` names one made without a password check, e.g. "signup")."""
    security_event("login.success", user_id=user.id, via=via)


def sign_out(user: User, session_key: str | None) -> None:
    """End the signed-in session with ``session_key`` (this browser's, and any copied cookie of it);
    the account's other sessions stay. A legacy session (from before sessions had keys, ``None``) can
    only be ended by ending every session of the account, as signing out did then."""
    if session_key:
        user_sessions.end_session(user, session_key)
    else:
        user_sessions.end_all_sessions(user)
        db.session.commit()
    security_event("logout", user_id=user.id, legacy=not session_key)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password for a signed-in user who knows the current one.

    Ends every session (the caller signs the current browser in again), revokes every API token and
    mails the owner a notice.

    :raises ValidationError: the current password is wrong, or the new one breaks the rules.
    """
    if not user.check_password(current_password or ""):
        security_event("password.change_refused", logging.WARNING, user_id=user.id)
        raise ValidationError(_("Your current password is not correct."), field="current_password")
    check_password_rules(new_password)
    user.set_password(new_password)
    end_sessions_and_tokens(user)
    mail_user(user, _l("Your password was changed"), "password_changed",
               url=external_url("auth.reset_password_request"))
    security_event("password.changed", user_id=user.id)


def end_sessions_and_tokens(user: User) -> None:
    """After a new password: no older session, remember-me cookie, remembered two-factor device, API
    token or app's (OAuth) token works (caller commits)."""
    user_sessions.end_all_sessions(user)
    two_factor.forget_devices(user)
    api_tokens.revoke_all_tokens(user)
    oauth.revoke_all_for_user(user)


def touch_last_seen(user: User) -> None:
    """Record that the user was active now (at most once a minute)."""
    now = utcnow()
    if user.last_seen is None or now - user.last_seen >= LAST_SEEN_RESOLUTION:
        if user.last_seen is None or user.last_seen.date() != now.date():
            stats.mark_active(user.id, now.date())  # the first write of the day
        user.last_seen = now
        db.session.commit()


def get_user_by_username(username: str) -> User | None:
    """The account with this name (ignoring case), local or remote ("name@domain"), or None. Malformed
    names match nobody."""
    if not (USERNAME_RE.match(username) or REMOTE_USERNAME_RE.match(username)):
        return None
    return db.session.scalar(user_by_username_select(username))


def set_language(user: User, locale: str) -> None:
    """Remember the language a signed-in user picked in the switcher."""
    if not i18n.supported(locale):
        raise ValidationError(_("Please choose one of the listed languages."), field="locale")
    user.locale = locale
    db.session.commit()


def set_theme(user: User, theme: str) -> None:
    """Remember the colour theme a signed-in user picked in the footer ("auto", "light" or "dark")."""
    if theme not in THEMES:
        raise ValidationError(_("Please choose one of the listed themes."), field="theme")
    user.theme = theme
    db.session.commit()


# -- email-driven flows -------------------------------------------------------------------------
def mail_user(user: User, subject: Any, template: str, **context: Any) -> None:
    """Queue ``email/<template>`` to ``user`` in their language, commit it with whatever the caller
    changed (the action and its mail are saved together), then start delivering it."""
    message = mail.queue_email(user.email, subject, template, locale=user.locale, user=user, **context)
    db.session.commit()
    mail.dispatch(message)


def send_confirmation(user: User) -> None:
    """Mail ``user`` a link that confirms their address."""
    mail_user(user, _l("Confirm your email address"), "confirm_email",
               url=external_url("auth.confirm_email", token=signed_tokens.confirm_token(user)))


def confirm_email(token: str) -> User:
    """Confirm the address a confirmation link was sent to. Confirming twice is harmless.

    :raises ValidationError: the link is invalid or expired.
    """
    user = signed_tokens.user_for_confirm_token(token)
    if user is None:
        raise ValidationError(_("This confirmation link is invalid or has expired."))
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()
        db.session.commit()
    return user


def confirmation_required(user: User) -> bool:
    """True when the site asks for confirmed addresses and this one is not yet confirmed."""
    return bool(current_app.config["EMAIL_CONFIRMATION"]) and user.confirmed_at is None


NOTIFICATION_KINDS = ("new_follower", "new_message", "mention", "reply")


def unsubscribe(user: User, kind: str) -> None:
    """Turn off one kind of notification email."""
    if kind not in NOTIFICATION_KINDS:
        raise ValidationError(_("Unknown kind of notification."))
    setattr(user, f"notify_{kind}", False)
    db.session.commit()
