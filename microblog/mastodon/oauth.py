"""The OAuth 2 endpoints Mastodon apps use (docs: methods/oauth, spec/oauth): the consent page, the
token and revocation endpoints, and the server's metadata (RFC 8414).

The consent page is a web page (a session, CSRF); /oauth/token and /oauth/revoke are called by apps
with their client credentials and are exempt from CSRF. An authorization request with an unknown
client or an unregistered redirect URI is answered with an error page, never with a redirect.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from microblog.extensions import csrf, limiter
from microblog.external_urls import external_url
from microblog.i18n import supported
from microblog.mastodon.forms import ConsentForm
from microblog.mastodon.paths import route
from microblog.security import content_security_policy
from microblog.services import oauth
from microblog.services import oauth_scopes as scopes_
from microblog.suspension import allowed_while_suspended

bp = Blueprint("oauth", __name__)
# The grants of POST /oauth/token. A user's token comes with a refresh token, which gets a new pair
# once (Mastodon's tokens do not expire, so apps may ignore it); there is no password grant.
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")

REQUEST_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
                  "code_challenge_method")


def _with_query(uri: str, values: dict[str, str | None]) -> str:
    """``uri`` with ``values`` added to its query string (what it had is kept)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in values.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_page(error: oauth.OAuthError) -> tuple[str, int]:
    return render_template("oauth/error.html", title=_("Authorization failed"), error=error), 400


def _error_redirect(redirect_uri: str, error: oauth.OAuthError, state: str | None):
    """An error the app should hear of, at its (registered) redirect URI; oob apps get the page."""
    if redirect_uri == oauth.OOB:
        return _error_page(error)
    return redirect(_with_query(redirect_uri, {"error": error.error, "error_description": error.description,
                                              "state": state}))


def _allow_form_redirect(response: Response, redirect_uri: str) -> Response:
    """Let the consent form's answer redirect to the app: browsers apply CSP's form-action to the
    redirect after a POST, and the app's origin (or its own URL scheme) is not 'self'."""
    parts = urlsplit(redirect_uri)
    if redirect_uri == oauth.OOB or not parts.scheme:
        return response
    source = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else f"{parts.scheme}:"
    policy = content_security_policy().replace("form-action 'self'", f"form-action 'self' {source}")
    response.headers["Content-Security-Policy"] = policy
    return response


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


@route(bp, "/oauth/authorize", methods=["GET"])
def authorize():
    """Ask the signed-in user whether the app may act for them (signing in first when needed)."""
    args = request.args
    try:
        app = oauth.check_client(args.get("client_id"), args.get("redirect_uri"))
    except oauth.OAuthError as error:
        return _error_page(error)
    redirect_uri = args["redirect_uri"]
    try:
        checked = oauth.check_authorization_request(
            app, redirect_uri, args.get("response_type"), args.get("scope"), args.get("state"),
            args.get("code_challenge"), args.get("code_challenge_method"))
    except oauth.OAuthError as error:
        return _error_redirect(redirect_uri, error, args.get("state"))
    # force_login: sign in again (another account), then come back without it.
    kept = [(name, value) for name, value in args.items(multi=True) if name != "force_login"]
    back = f"{url_for('oauth.authorize')}?{urlencode(kept)}"
    if current_user.is_authenticated and _truthy(args.get("force_login")):
        logout_user()
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=back))
    form = ConsentForm(formdata=None, data={name: args.get(name, "") for name in REQUEST_FIELDS})
    lang = supported(args.get("lang"))
    with force_locale(lang) if lang else nullcontext():
        html = render_template("oauth/authorize.html", title=_("Authorize %(app)s", app=app.name), form=form,
                               app=app, scopes=scopes_.describe(checked.scopes))
    return _allow_form_redirect(Response(html), redirect_uri)


@route(bp, "/oauth/authorize", methods=["POST"])
@allowed_while_suspended  # letting an app sign in, as signing in: it can only do what the account may
def decide():
    """Authorize (a code for the app) or Deny (access_denied), with the consent page's CSRF token."""
    form = ConsentForm()
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if not form.validate_on_submit():
        return _error_page(oauth.OAuthError("invalid_request", _("The request could not be understood. "
                                                                 "Please check what you sent.")))
    try:
        app = oauth.check_client(form.client_id.data, form.redirect_uri.data)
    except oauth.OAuthError as error:
        return _error_page(error)
    redirect_uri, state = form.redirect_uri.data, form.state.data or None
    try:
        checked = oauth.check_authorization_request(
            app, redirect_uri, form.response_type.data, form.scope.data, state,
            form.code_challenge.data or None, form.code_challenge_method.data or None)
    except oauth.OAuthError as error:
        return _error_redirect(redirect_uri, error, state)
    if not form.authorize.data:
        denied = oauth.OAuthError("access_denied", _("The resource owner or authorization server denied "
                                                     "the request."))
        return _error_redirect(redirect_uri, denied, state)
    code = oauth.grant_code(current_user, checked)
    if redirect_uri == oauth.OOB:
        page = render_template("oauth/code.html", title=_("Authorization code"), app=app, code=code)
        return page, 200, {"Cache-Control": "no-store"}  # the code is a credential
    return redirect(_with_query(redirect_uri, {"code": code, "state": state}))


def _client_credentials(values: dict[str, Any]) -> tuple[str | None, str | None]:
    """client_id and client_secret from HTTP Basic (client_secret_basic) or the body (client_secret_post)."""
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username:
        return auth.username, auth.password
    return values.get("client_id"), values.get("client_secret")


def _oauth_error(error: oauth.OAuthError):
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="microblog"'
    return {"error": error.error, "error_description": error.description}, error.status, headers


def _token_params() -> dict[str, Any]:
    body = request.get_json(silent=True) if request.is_json else None
    values: dict[str, Any] = {key: request.form.get(key) for key in request.form}
    if isinstance(body, dict):
        values.update({key: value for key, value in body.items() if isinstance(value, str)})
    return values


def _too_many(_limit: Any) -> Response:
    """Apps are told in JSON that they went too fast (the site's 429 page is for people)."""
    return Response('{"error": "Too many requests"}', status=429, mimetype="application/json")


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@route(bp, "/oauth/token", methods=["POST"])
@csrf.exempt
@allowed_while_suspended  # signing in an app: a suspended account may read, as on the web
# Per address, as POST /api/tokens: codes and secrets are not for guessing.
@limiter.limit(_login_limit, on_breach=_too_many)
def token():
    """Exchange a code (authorization_code), a refresh token (refresh_token) or the app's credentials
    (client_credentials) for a token."""
    values = _token_params()
    grant_type = values.get("grant_type")
    try:
        if grant_type not in GRANT_TYPES:
            # No password grant (Mastodon removed it).
            raise oauth.OAuthError("unsupported_grant_type",
                                   _("The authorization grant type is not supported by the authorization "
                                     "server."))
        app = oauth.authenticate_client(*_client_credentials(values))
        if grant_type == "authorization_code":
            issued = oauth.exchange_code(app, values.get("code"), values.get("redirect_uri"),
                                         values.get("code_verifier"))
        elif grant_type == "refresh_token":
            issued = oauth.refresh(app, values.get("refresh_token"), values.get("scope"))
        else:
            issued = oauth.client_credentials(app, values.get("scope"))
    except oauth.OAuthError as error:
        return _oauth_error(error)
    body = {"access_token": issued.access_token, "token_type": "Bearer", "scope": issued.token.scopes,
            "created_at": int(issued.token.created_at.timestamp())}
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@route(bp, "/oauth/revoke", methods=["POST"])
@csrf.exempt
@allowed_while_suspended  # signing an app out
@limiter.limit(_login_limit, on_breach=_too_many)
def revoke():
    """Revoke one of the app's tokens: ``{}``, also for a token already revoked or unknown."""
    values = _token_params()
    try:
        app = oauth.authenticate_client(*_client_credentials(values))
        oauth.revoke_token(app, values.get("token"))
    except oauth.OAuthError as error:
        return _oauth_error(error)
    return {}


@route(bp, "/.well-known/oauth-authorization-server", methods=["GET"])
def metadata():
    """The server's OAuth 2 metadata (RFC 8414), as Mastodon 4.3 publishes it."""
    return {
        "issuer": current_app.config["SITE_URL"].rstrip("/") + "/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": external_url("oauth.authorize"),
        "token_endpoint": external_url("oauth.token"),
        "app_registration_endpoint": external_url("mastodon_apps.create_app"),
        "revocation_endpoint": external_url("oauth.revoke"),
        "scopes_supported": list(scopes_.ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
