"""API authentication: HTTP Basic to get a token, Bearer tokens for everything else."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request
from flask_babel import gettext as _

from microblog.api.errors import abort_json
from microblog.exceptions import DomainError
from microblog.models import Permission, User
from microblog.services import accounts, api_tokens, roles

BEARER = {"bearerAuth": []}
BASIC = {"basicAuth": []}
SECURITY_SCHEMES = {
    "basicAuth": {"type": "http", "scheme": "basic"},
    "bearerAuth": {"type": "http", "scheme": "bearer"},
}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_api_user() -> User | None:
    """The user behind this request's bearer token (checked once per request), or None."""
    if "api_user" not in g:
        token = bearer_token()
        g.api_user = api_tokens.user_for_token(token) if token else None
    return g.api_user


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the request with 401 unless it carries a valid bearer token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_api_user() is None:
            abort_json(401, _("A valid bearer token is required."),
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
        return view(*args, **kwargs)

    return wrapper


def basic_user() -> User:
    """The user named by HTTP Basic credentials, or a 401 (the same for every kind of failure)."""
    auth = request.authorization
    user = None
    if auth is not None and auth.type == "basic" and auth.username and auth.password:
        user = accounts.authenticate(auth.username, auth.password)
    if user is None:
        abort_json(401, _("Invalid username or password."),
                   headers={"WWW-Authenticate": 'Basic realm="api"'})
    return user


def rate_limit_key() -> str:
    """Count API requests per token when there is one, else per client address."""
    token = bearer_token()
    return f"token:{api_tokens.token_fingerprint(token)}" if token else f"ip:{request.remote_addr}"


def permission_required(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """After ``token_required``: refuse with 403 unless the caller's role grants ``permission``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                roles.require(current_api_user(), permission)
            except DomainError as exc:
                abort_json(403, exc.message)
            return view(*args, **kwargs)

        return wrapper

    return decorator
