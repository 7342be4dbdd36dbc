"""The OAuth 2 server of the Mastodon-compatible API: apps, authorization codes, access tokens.

Mastodon's documentation is the contract (methods/apps, methods/oauth, spec/oauth): the
authorization code grant with PKCE (S256), client credentials, no password grant, and tokens
that do not expire (Mastodon issues no refresh tokens by default and does not list the grant).
Secrets are random 256-bit values; only their SHA-256 digests are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple, cast
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.logs import security_event
from microblog.models import (
    OAuthAccessToken,
    OAuthApplication,
    OAuthAuthorizationCode,
    User,
)
from microblog.models.oauth import OAUTH_NAME_MAX, OAUTH_REDIRECT_URIS_MAX, OAUTH_URI_MAX, OAUTH_WEBSITE_MAX
from microblog.services import audit
from microblog.services import oauth_scopes as scopes_
from microblog.timeutil import utcnow

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
# last_used_at is written at most this often per token: a client calling every second costs no writes.
LAST_USED_EVERY = timedelta(minutes=5)
SECRET_MAX = 200  # longer credentials are refused before any digest is computed


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class OAuthError(Exception):
    """An RFC 6749 error: ``error`` is the code (invalid_grant...), ``status`` the HTTP status."""

    error: str
    description: str
    status: int = 400


# -- applications ----------------------------------------------------------------------------------
def _valid_redirect_uri(uri: str) -> bool:
    """An absolute URI without a fragment (a native app's own scheme included), or the oob marker."""
    if uri == OOB:
        return True
    if len(uri) > OAUTH_URI_MAX or any(ord(ch) < 33 for ch in uri):
        return False
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment:
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme not in ("javascript", "data", "vbscript", "file")


def split_redirect_uris(value: str | list | None) -> list[str]:
    """Redirect URIs as Mastodon accepts them: a newline separated string, or a list of strings."""
    if isinstance(value, list):
        uris = [item.strip() for item in value if isinstance(item, str)]
    else:
        uris = [line.strip() for line in (value or "").splitlines()]
    return [uri for uri in uris if uri]


def register_application(name: str | None, redirect_uris: list[str], scopes: str | None,
                         website: str | None) -> tuple[OAuthApplication, str]:
    """Register a client app; returns it with its client secret (shown once, stored as a digest).

    :raises ValidationError: with Mastodon's "Validation failed: ..." wording.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Validation failed: Application name can't be blank"), field="client_name")
    if len(name) > OAUTH_NAME_MAX:
        raise ValidationError(_("Validation failed: Application name is too long (maximum is %(max)d "
                                "characters)", max=OAUTH_NAME_MAX), field="client_name")
    if not redirect_uris:
        raise ValidationError(_("Validation failed: Redirect URI can't be blank"), field="redirect_uris")
    if not all(_valid_redirect_uri(uri) for uri in redirect_uris) \
            or len("\n".join(redirect_uris)) > OAUTH_REDIRECT_URIS_MAX:
        raise ValidationError(_("Validation failed: Redirect URI must be an absolute URI."),
                              field="redirect_uris")
    requested = scopes_.parse(scopes) or [scopes_.DEFAULT_SCOPE]
    if scopes_.unknown(requested):
        raise ValidationError(_("Validation failed: Scopes must be a list of valid scopes"), field="scopes")
    website = (website or "").strip() or None
    if website is not None:
        parts = urlsplit(website)
        if len(website) > OAUTH_WEBSITE_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError(_("Validation failed: Website is invalid"), field="website")
    secret = _new_secret()
    application = OAuthApplication(
        client_id=_new_secret(), client_secret_digest=digest(secret), name=name, website=website,
        redirect_uris="\n".join(redirect_uris), scopes=" ".join(requested),
    )
    db.session.add(application)
    db.session.commit()
    security_event("oauth.app_registered", app_id=application.id)
    return application, secret


def application_by_client_id(client_id: str | None) -> OAuthApplication | None:
    if not client_id or len(client_id) > SECRET_MAX:
        return None
    return db.session.scalar(sa.select(OAuthApplication).where(OAuthApplication.client_id == client_id))


def authenticate_client(client_id: str | None, client_secret: str | None) -> OAuthApplication:
    """The app whose id and secret these are.

    :raises OAuthError: invalid_client (401), the same for every kind of failure.
    """
    application = application_by_client_id(client_id)
    if application is None or not client_secret or len(client_secret) > SECRET_MAX \
            or not hmac.compare_digest(application.client_secret_digest, digest(client_secret)):
        raise OAuthError("invalid_client", _(
            "Client authentication failed due to unknown client, no client authentication included, or "
            "unsupported authentication method."), 401)
    return application


# -- authorization ---------------------------------------------------------------------------------
@dataclass
class AuthorizationRequest:
    """A checked GET /oauth/authorize: the app, where to send the answer, and what it asks for."""

    application: OAuthApplication
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None


def check_client(client_id: str | None, redirect_uri: str | None) -> OAuthApplication:
    """The app of an authorization request, whose registered URIs include ``redirect_uri``.

    Failing this, nothing may be sent to ``redirect_uri``: the caller shows an error page.

    :raises OAuthError: invalid_client or invalid_redirect_uri.
    """
    application = application_by_client_id(client_id)
    if application is None:
        raise OAuthError("invalid_client", _("This application is not known to this site."), 401)
    if not redirect_uri or redirect_uri not in application.redirect_uri_list:
        raise OAuthError("invalid_redirect_uri",
                         _("The redirect URI is not one this application registered."))
    return application


def check_authorization_request(application: OAuthApplication, redirect_uri: str,
                                response_type: str | None, scope: str | None, state: str | None,
                                code_challenge: str | None,
                                code_challenge_method: str | None) -> AuthorizationRequest:
    """The rest of an authorization request, once its client and redirect URI are known to be good.

    :raises OAuthError: unsupported_response_type, invalid_scope, invalid_request: errors that may go
        back to the (registered) redirect URI.
    """
    if response_type != "code":
        raise OAuthError("unsupported_response_type",
                         _("The authorization server does not support this response type."))
    requested = scopes_.parse(scope) or [scopes_.DEFAULT_SCOPE]
    if scopes_.unknown(requested) or not scopes_.is_subset(requested, application.scope_list):
        raise OAuthError("invalid_scope", _("The requested scope is invalid, unknown, or malformed."))
    if code_challenge is not None or code_challenge_method is not None:
        if (code_challenge_method or "S256") != "S256":
            raise OAuthError("invalid_request", _("Only the S256 code challenge method is supported."))
        if not code_challenge or not 43 <= len(code_challenge) <= 128:
            raise OAuthError("invalid_request", _("The code challenge is missing or malformed."))
        code_challenge_method = "S256"
    if state is not None and len(state) > 2000:
        raise OAuthError("invalid_request", _("The state is too long."))
    return AuthorizationRequest(application, redirect_uri, requested, state, code_challenge,
                                code_challenge_method)


def grant_code(user: User, request: AuthorizationRequest) -> str:
    """The user said yes: a single-use code for the app, valid CODE_LIFETIME."""
    code = _new_secret()
    db.session.add(OAuthAuthorizationCode(
        code_digest=digest(code), application_id=request.application.id, user_id=user.id,
        scopes=" ".join(request.scopes), redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge, code_challenge_method=request.code_challenge_method,
        expires_at=utcnow() + CODE_LIFETIME,
    ))
    # Old codes are of no use to anyone: tidy them while we are here.
    db.session.execute(sa.delete(OAuthAuthorizationCode).where(
        OAuthAuthorizationCode.expires_at < utcnow() - timedelta(days=1)))
    audit.record(user, audit.APP_AUTHORIZE, user, details=request.application.name[:200])
    db.session.commit()
    security_event("oauth.authorized", user_id=user.id, app_id=request.application.id)
    return code


def _invalid_grant() -> OAuthError:
    return OAuthError("invalid_grant", _(
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
        "used in the authorization request, or was issued to another client."))


def _pkce_matches(challenge: str, verifier: str | None) -> bool:
    if not verifier or not 43 <= len(verifier) <= 128:
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


class Issued(NamedTuple):
    """A token just issued: the plain secrets, shown this once (only their digests are stored)."""

    access_token: str
    token: OAuthAccessToken
    refresh_token: str | None  # a user's token has one; an app's (client credentials) has none


def _issue_token(application: OAuthApplication, user: User | None, scopes: list[str]) -> Issued:
    plain, refresh_plain = _new_secret(), _new_secret() if user is not None else None
    token = OAuthAccessToken(token_digest=digest(plain), application_id=application.id,
                             user_id=user.id if user is not None else None, scopes=" ".join(scopes),
                             refresh_token_digest=digest(refresh_plain) if refresh_plain else None)
    db.session.add(token)
    return Issued(plain, token, refresh_plain)


def exchange_code(application: OAuthApplication, code: str | None, redirect_uri: str | None,
                  code_verifier: str | None) -> Issued:
    """The authorization_code grant: the code (once, in time, same app and URI, PKCE) for a token.

    :raises OAuthError: invalid_grant for every way the code does not fit.
    """
    if not code or len(code) > SECRET_MAX:
        raise _invalid_grant()
    grant = db.session.scalar(sa.select(OAuthAuthorizationCode)
                              .where(OAuthAuthorizationCode.code_digest == digest(code)))
    if grant is None or grant.application_id != application.id:
        raise _invalid_grant()
    if grant.used_at is not None:
        # A code used twice may have been stolen: what the first use got is revoked too (RFC 6749 4.1.2).
        revoked = revoke_where(OAuthAccessToken.application_id == application.id,
                                OAuthAccessToken.user_id == grant.user_id,
                                OAuthAccessToken.created_at >= grant.used_at)
        db.session.commit()
        security_event("oauth.code_reused", user_id=grant.user_id, app_id=application.id, revoked=revoked)
        raise _invalid_grant()
    if grant.expires_at <= utcnow() or grant.redirect_uri != redirect_uri:
        raise _invalid_grant()
    if grant.code_challenge and not _pkce_matches(grant.code_challenge, code_verifier):
        raise _invalid_grant()
    user = grant.user
    # Spent in one conditional UPDATE: of two requests racing with one code, only one changes the row.
    spent = db.session.execute(
        sa.update(OAuthAuthorizationCode)
        .where(OAuthAuthorizationCode.id == grant.id, OAuthAuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if cast(sa.CursorResult, spent).rowcount != 1:
        db.session.rollback()
        raise _invalid_grant()
    issued = _issue_token(application, user, grant.scopes.split())
    db.session.commit()
    security_event("oauth.token_issued", user_id=user.id, app_id=application.id, token_id=issued.token.id)
    return issued


def client_credentials(application: OAuthApplication, scope: str | None) -> Issued:
    """The client_credentials grant: a token of the app itself, with no user.

    :raises OAuthError: invalid_scope when the scopes are not the app's.
    """
    requested = scopes_.parse(scope) or [scopes_.DEFAULT_SCOPE]
    if scopes_.unknown(requested) or not scopes_.is_subset(requested, application.scope_list):
        raise OAuthError("invalid_scope", _("The requested scope is invalid, unknown, or malformed."))
    issued = _issue_token(application, None, requested)
    db.session.commit()
    security_event("oauth.token_issued", app_id=application.id, token_id=issued.token.id)
    return issued


def refresh(application: OAuthApplication, refresh_token: str | None,
            scope: str | None) -> Issued:
    """The refresh_token grant: a user's refresh token (once) for a new token and a new refresh token,
    with the same scopes or fewer; the old token ends. A refresh token used twice may have been
    stolen: every token of that app for that user ends (RFC 9700 4.14.2).

    :raises OAuthError: invalid_grant for every way the refresh token does not fit, invalid_scope for
        scopes beyond the old token's.
    """
    if not refresh_token or len(refresh_token) > SECRET_MAX:
        raise _invalid_grant()
    old = db.session.scalar(sa.select(OAuthAccessToken).where(
        OAuthAccessToken.refresh_token_digest == digest(refresh_token)))
    if old is None or old.application_id != application.id or old.user is None:
        raise _invalid_grant()
    if old.revoked_at is not None:
        revoked = revoke_where(OAuthAccessToken.application_id == application.id,
                                OAuthAccessToken.user_id == old.user_id)
        db.session.commit()
        security_event("oauth.refresh_reused", user_id=old.user_id, app_id=application.id, revoked=revoked)
        raise _invalid_grant()
    requested = scopes_.parse(scope) or old.scope_list
    if scopes_.unknown(requested) or not scopes_.is_subset(requested, old.scope_list):
        raise OAuthError("invalid_scope", _("The requested scope is invalid, unknown, or malformed."))
    # Spent in one conditional UPDATE: of two requests racing with one refresh token, one wins.
    spent = db.session.execute(
        sa.update(OAuthAccessToken)
        .where(OAuthAccessToken.id == old.id, OAuthAccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    if cast(sa.CursorResult, spent).rowcount != 1:
        db.session.rollback()
        raise _invalid_grant()
    issued = _issue_token(application, old.user, requested)
    db.session.commit()
    security_event("oauth.token_refreshed", user_id=old.user_id, app_id=application.id,
                   token_id=issued.token.id)
    return issued


# -- tokens ----------------------------------------------------------------------------------------
def token_for_bearer(plain: str | None) -> OAuthAccessToken | None:
    """The unrevoked token with this value, or None; its user comes in the same statement (every call
    of the API needs both)."""
    if not plain or len(plain) > SECRET_MAX:
        return None
    return db.session.scalar(sa.select(OAuthAccessToken).options(so.joinedload(OAuthAccessToken.user)).where(
        OAuthAccessToken.token_digest == digest(plain), OAuthAccessToken.revoked_at.is_(None)))


def touch_token(token: OAuthAccessToken) -> None:
    """Note that the token was used (at most one write every LAST_USED_EVERY)."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    db.session.execute(sa.update(OAuthAccessToken).where(OAuthAccessToken.id == token.id)
                       .values(last_used_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    token.last_used_at = now


def revoke_token(application: OAuthApplication, plain: str | None) -> None:
    """POST /oauth/revoke: end one of the app's tokens (revoking twice, or an unknown token, is fine).

    :raises OAuthError: unauthorized_client (403) for a token of another app.
    """
    if not plain or len(plain) > SECRET_MAX:
        return
    token = db.session.scalar(
        sa.select(OAuthAccessToken).where(OAuthAccessToken.token_digest == digest(plain)))
    if token is None:
        return
    if token.application_id != application.id:
        raise OAuthError("unauthorized_client", _("You are not authorized to revoke this token"), 403)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
        security_event("oauth.token_revoked", user_id=token.user_id, app_id=application.id, token_id=token.id)


def revoke_all_for_user(user: User) -> int:
    """After a new password: every app loses its access, as every API token does (the caller commits).
    Returns how many tokens were live."""
    count = revoke_where(OAuthAccessToken.user_id == user.id)
    if count:
        security_event("oauth.token_revoked", user_id=user.id, count=count, reason="password")
    return count


def revoke_where(*conditions: sa.ColumnElement[bool]) -> int:
    result = db.session.execute(
        sa.update(OAuthAccessToken).where(OAuthAccessToken.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    return cast(sa.CursorResult, result).rowcount
