"""Bearer tokens of the Mastodon-compatible API: who is calling, with which scopes, and Mastodon's errors.

Every Mastodon-compatible view stands on :func:`oauth_required` (or :func:`oauth_optional` for public
ones), which answers as Mastodon does (Api::BaseController and Doorkeeper):

- no token, or one that is unknown or revoked: 401 ``{"error": "The access token is invalid"}``;
- a token without any of the accepted scopes: 403 ``{"error": "This action is outside the authorized
  scopes"}`` (a high-level scope grants its granular ones: ``read`` grants ``read:statuses``);
- an app token (client credentials: no user) where a user is needed: 422 ``{"error": "This method
  requires an authenticated user"}``;
- a suspended account: reads pass (suspension.py's rule), writes get 403 ``{"error": "Your login is
  currently disabled"}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn

from flask import abort, g, jsonify, request

from microblog.bearer import bearer_token
from microblog.models import OAuthAccessToken, User
from microblog.services import oauth
from microblog.services import oauth_scopes as scopes_

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
INVALID_TOKEN = "The access token is invalid"
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
USER_REQUIRED = "This method requires an authenticated user"
DISABLED = "Your login is currently disabled"


def mastodon_abort(status: int, error: str, headers: dict[str, str] | None = None) -> NoReturn:
    """Stop with Mastodon's error shape, ``{"error": "..."}``."""
    response = jsonify({"error": error})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    abort(response)


def current_token() -> OAuthAccessToken | None:
    """The unrevoked OAuth token of this request's ``Authorization: Bearer`` header, looked up once."""
    if "oauth_token" not in g:
        g.oauth_token = oauth.token_for_bearer(bearer_token())
    return g.oauth_token


def current_user_or_none() -> User | None:
    """The user behind this request's token, or None (no token, or an app token)."""
    token = current_token()
    return token.user if token is not None else None


def current_mastodon_user() -> User:
    """The token's user, for views behind ``oauth_required`` (which made sure there is one)."""
    user = current_user_or_none()
    if user is None:
        mastodon_abort(422, USER_REQUIRED)
    return user


def _authorize(accepted: tuple[str, ...], user_required: bool) -> OAuthAccessToken:
    token = current_token()
    if token is None:
        mastodon_abort(401, INVALID_TOKEN,
                       headers={"WWW-Authenticate": 'Bearer realm="microblog", error="invalid_token", '
                                                    f'error_description="{INVALID_TOKEN}"'})
    if accepted and not scopes_.allows(token.scope_list, *accepted):
        mastodon_abort(403, OUTSIDE_SCOPES,
                       headers={"WWW-Authenticate": 'Bearer realm="microblog", error="insufficient_scope", '
                                                    f'scope="{" ".join(accepted)}"'})
    user = token.user
    if user_required and user is None:
        mastodon_abort(422, USER_REQUIRED)
    if user is not None and user.is_suspended and request.method not in SAFE_METHODS:
        mastodon_abort(403, DISABLED)
    oauth.touch_token(token)
    return token


def oauth_required(*accepted: str, user: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the request unless its bearer token grants one of the ``accepted`` scopes (any scope when
    none are given) and, with ``user`` (the default), speaks for a user rather than for the app alone.

    ``@oauth_required("read:statuses")``, ``@oauth_required("read:accounts", "profile")``,
    ``@oauth_required(user=False)`` (any valid token: apps/verify_credentials).
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _authorize(accepted, user)
            return view(*args, **kwargs)

        wrapper.oauth_scopes = accepted  # type: ignore[attr-defined]  # for tests that walk the views
        return wrapper

    return decorator


def oauth_optional(*accepted: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """For public views: no token is fine, but a token that is sent must be valid and in scope
    (Mastodon's ``authorize_if_got_token!``)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if bearer_token() is not None:
                _authorize(accepted, user_required=False)
            return view(*args, **kwargs)

        wrapper.oauth_optional = accepted  # type: ignore[attr-defined]  # for tests that walk the views
        return wrapper

    return decorator


def params() -> dict[str, Any]:
    """The request's parameters as Mastodon reads them: query string, form fields and a JSON object,
    later ones winning. A repeated form field, or one named ``name[]``, becomes a list."""
    merged: dict[str, Any] = {}
    for source in (request.args, request.form):
        for key in source:
            if not isinstance(key, str):  # a multipart field whose name is not text (e.g. "\r")
                continue
            values = source.getlist(key)
            name = key[:-2] if key.endswith("[]") else key
            merged[name] = values if key.endswith("[]") or len(values) > 1 else values[0]
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        merged.update(body)
    return merged


def text_param(values: dict[str, Any], name: str) -> str | None:
    """A parameter that must be one string (None when missing or of another type)."""
    value = values.get(name)
    return value if isinstance(value, str) else None
