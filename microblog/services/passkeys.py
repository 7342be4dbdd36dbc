"""Passkeys (WebAuthn): adding, naming and removing them, and signing in with one, with or without a
password before it. The checks of what the browser sends are py_webauthn's own.

The challenge of each ceremony is made here and kept by the caller (the web routes keep it in the
session) with the time it was issued: a challenge serves once, for ``CHALLENGE_SECONDS``, and an
assertion over a challenge issued before the passkey's last use is refused, so a copied session
cookie cannot replay a sign-in even with an authenticator whose counter stays at 0.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from microblog import mail
from microblog.exceptions import ConflictError, NotFound, ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.logs import security_event
from microblog.models import PASSKEY_NAME_MAX, User, WebAuthnCredential
from microblog.services import audit
from microblog.textutil import has_control_characters
from microblog.timeutil import utcnow

CHALLENGE_SECONDS = 300
TIMEOUT_MS = 120_000
# What the library may raise on a malformed or wrong response: its own (WebAuthnException), and whatever its
# parsers (JSON, base64, CBOR, struct, ASN.1) let through on input built to break them. The blocks that
# catch these call the library alone, on what the browser sent: no database error hides behind them.
_BAD_INPUT = Exception


@dataclass(frozen=True)
class RelyingParty:
    """The site as WebAuthn sees it: the domain passkeys are bound to, its name, and the origin pages
    are served from."""

    id: str
    name: str
    origin: str


@dataclass(frozen=True)
class Challenge:
    """A challenge given to a browser, with when it was issued; ``purpose`` keeps one ceremony's
    challenge out of another's."""

    value: bytes
    issued_at: float
    purpose: str

    def expired(self) -> bool:
        return not (0 <= time.time() - self.issued_at <= CHALLENGE_SECONDS)


def passkeys_select(user: User) -> sa.Select:
    """The account's passkeys, oldest first."""
    return (sa.select(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)
            .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id))


def passkeys_of(user: User) -> list[WebAuthnCredential]:
    return list(db.session.scalars(passkeys_select(user)))


def has_passkeys(user: User) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WebAuthnCredential).where(
        WebAuthnCredential.user_id == user.id)) != 0


def get_passkey(user: User, passkey_id: int) -> WebAuthnCredential:
    """One of ``user``'s passkeys.

    :raises NotFound: no such passkey, or another account's.
    """
    passkey = db.session.get(WebAuthnCredential, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise NotFound(_("No such passkey."))
    return passkey


def _descriptors(passkeys: list[WebAuthnCredential]) -> list[PublicKeyCredentialDescriptor]:
    known = {transport.value for transport in AuthenticatorTransport}
    return [PublicKeyCredentialDescriptor(
        id=passkey.credential_id,
        transports=[AuthenticatorTransport(t) for t in passkey.transports.split(",") if t in known] or None,
    ) for passkey in passkeys]


# -- adding, naming, removing -------------------------------------------------------------------
def registration_options(user: User, rp: RelyingParty) -> tuple[str, Challenge]:
    """The options for ``navigator.credentials.create()`` (JSON) and their challenge. The passkey must
    be discoverable and verify the user (a PIN, a fingerprint), so that it alone can sign in."""
    if user.webauthn_user_handle is None:
        user.webauthn_user_handle = secrets.token_bytes(32)
        db.session.commit()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=user.username, user_id=user.webauthn_user_handle,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(passkeys_of(user)),
    )
    return options_to_json(options), Challenge(options.challenge, time.time(), "register")


def clean_name(name: Any) -> str:
    """A passkey's name as given, stripped.

    :raises ValidationError: empty, too long or with control characters.
    """
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError(_("Please give the passkey a name."), field="name")
    if len(name) > PASSKEY_NAME_MAX:
        raise ValidationError(_("A name is at most %(max)d characters.", max=PASSKEY_NAME_MAX), field="name")
    if has_control_characters(name):
        raise ValidationError(_("Please remove control characters."), field="name")
    return name


def add_passkey(user: User, rp: RelyingParty, challenge: Challenge | None, credential: Any,
                name: Any) -> WebAuthnCredential:
    """Keep the passkey the browser made (``credential``: the JSON of its PublicKeyCredential) once the
    library has checked it against ``challenge``. Audited, logged and mailed to the owner.

    :raises ValidationError: the name is wrong, the challenge is missing or stale, or the response
        does not verify.
    :raises ConflictError: the passkey is already registered.
    """
    name = clean_name(name)
    if challenge is None or challenge.purpose != "register" or challenge.expired():
        raise ValidationError(_("That took too long. Please try again."))
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed, expected_challenge=challenge.value, expected_rp_id=rp.id,
            expected_origin=rp.origin, require_user_verification=True)
    except _BAD_INPUT as exc:
        security_event("passkey.add_refused", logging.WARNING, user_id=user.id, reason=str(exc)[:200])
        raise ValidationError(_("The passkey could not be checked. Please try again.")) from None
    taken = db.session.scalar(sa.select(WebAuthnCredential.id).where(
        WebAuthnCredential.credential_id == verified.credential_id))
    if taken is not None:
        raise ConflictError(_("That passkey is already registered."))
    transports = [t.value for t in (parsed.response.transports or [])]
    passkey = WebAuthnCredential(
        user_id=user.id, credential_id=verified.credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, transports=",".join(transports)[:255], name=name,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )
    db.session.add(passkey)
    db.session.flush()
    audit.record(user, audit.PASSKEY_ADDED, user, details=name)
    _mail(user, _l("A passkey was added to your account"), "passkey_added", name)
    security_event("passkey.added", user_id=user.id, passkey_id=passkey.id)
    return passkey


def rename_passkey(user: User, passkey_id: int, name: Any) -> WebAuthnCredential:
    """Give one of ``user``'s passkeys another name.

    :raises NotFound: not one of theirs. :raises ValidationError: the name is wrong.
    """
    passkey = get_passkey(user, passkey_id)
    passkey.name = clean_name(name)
    db.session.commit()
    return passkey


def remove_passkey(user: User, passkey_id: int, password: str | None = None, *,
                   check_password: bool = True) -> None:
    """Remove one of ``user``'s passkeys: it signs in no more. The web page asks for the password; an
    API token (made with the password, and a code with two-factor sign-in) stands for it.

    :raises NotFound: not one of theirs. :raises ValidationError: the password is wrong.
    """
    passkey = get_passkey(user, passkey_id)
    if check_password and not user.check_password(password or ""):
        security_event("passkey.remove_refused", logging.WARNING, user_id=user.id, reason="wrong_password")
        raise ValidationError(_("Your password is not correct."), field="password")
    name = passkey.name
    db.session.delete(passkey)
    audit.record(user, audit.PASSKEY_REMOVED, user, details=name)
    _mail(user, _l("A passkey was removed from your account"), "passkey_removed", name)
    security_event("passkey.removed", user_id=user.id, passkey_id=passkey_id)


# -- signing in ---------------------------------------------------------------------------------
def authentication_options(rp: RelyingParty, user: User | None = None) -> tuple[str, Challenge]:
    """The options for ``navigator.credentials.get()`` (JSON) and their challenge. Without ``user``
    (signing in without a password) the browser offers the passkeys it holds for the site and the
    user must be verified; with ``user`` (the second step after the password) only that account's
    passkeys are allowed."""
    options = generate_authentication_options(
        rp_id=rp.id, timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(passkeys_of(user)) if user is not None else None,
        user_verification=(UserVerificationRequirement.REQUIRED if user is None
                           else UserVerificationRequirement.PREFERRED),
    )
    purpose = "sign_in" if user is None else f"second_step:{user.id}"
    return options_to_json(options), Challenge(options.challenge, time.time(), purpose)


def authenticate(rp: RelyingParty, challenge: Challenge | None, credential: Any,
                 user: User | None = None) -> User | None:
    """The account ``credential`` (the JSON of the browser's assertion) signs in, or None.

    Without ``user``, a password-less sign-in: the passkey must have verified the user, and the user
    handle it returns must be its account's. With ``user``, the second step after that account's
    password: the passkey must be one of theirs. The stored counter moves on; a counter that did not
    (a cloned authenticator, says WebAuthn) is refused and logged.
    """
    purpose = "sign_in" if user is None else f"second_step:{user.id}"
    if challenge is None or challenge.purpose != purpose or challenge.expired():
        security_event("passkey.sign_in_refused", logging.WARNING, reason="challenge")
        return None
    try:
        parsed = parse_authentication_credential_json(credential)
    except _BAD_INPUT:
        security_event("passkey.sign_in_refused", logging.WARNING, reason="malformed")
        return None
    passkey = db.session.scalar(sa.select(WebAuthnCredential).where(
        WebAuthnCredential.credential_id == parsed.raw_id))
    if passkey is None or (user is not None and passkey.user_id != user.id):
        security_event("passkey.sign_in_refused", logging.WARNING, reason="unknown_passkey")
        return None
    owner = db.session.get(User, passkey.user_id)
    assert owner is not None  # the foreign key
    handle = owner.webauthn_user_handle
    if user is None and (not handle or parsed.response.user_handle != handle):
        security_event("passkey.sign_in_refused", logging.WARNING, reason="user_handle", user_id=owner.id)
        return None
    if passkey.last_used_at is not None and passkey.last_used_at.timestamp() >= challenge.issued_at:
        security_event("passkey.sign_in_refused", logging.WARNING, reason="replayed", user_id=owner.id)
        return None
    try:
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=challenge.value, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=user is None)
    except _BAD_INPUT as exc:
        reason = "cloned" if "sign count" in str(exc) else "verification"
        security_event("passkey.sign_in_refused", logging.WARNING, reason=reason, user_id=owner.id,
                       passkey_id=passkey.id)
        return None
    used: sa.CursorResult = db.session.execute(  # type: ignore[assignment]  # an UPDATE: a cursor result
        sa.update(WebAuthnCredential)
        .where(WebAuthnCredential.id == passkey.id, WebAuthnCredential.sign_count == passkey.sign_count,
               sa.or_(WebAuthnCredential.last_used_at.is_(None),
                      WebAuthnCredential.last_used_at == passkey.last_used_at))
        .values(sign_count=verified.new_sign_count, last_used_at=utcnow(),
                backed_up=verified.credential_backed_up)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if used.rowcount != 1:  # two requests with one assertion: only the first one counts
        security_event("passkey.sign_in_refused", logging.WARNING, reason="replayed", user_id=owner.id)
        return None
    db.session.refresh(passkey)
    security_event("passkey.used", user_id=owner.id, passkey_id=passkey.id)
    return owner


# -- mail -----------------------------------------------------------------------------------------
def _mail(user: User, subject: Any, template: str, name: str) -> None:
    """Queue the notice, commit it with the change, then start delivering it."""
    message = mail.queue_email(user.email, subject, template, locale=user.locale, user=user, name=name,
                               url=external_url("auth.reset_password_request"),
                               settings_url=external_url("passkeys.settings"))
    db.session.commit()
    mail.dispatch(message)
