"""API authentication: HTTP Basic to get a token, Bearer tokens for everything else."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import gettext as _

from microblog.bearer import current_api_user
from microblog.exceptions import DomainError
from microblog.models import Permission, User
from microblog.services import account_deletion, accounts, roles, two_factor
from microblog.web import abort_json

BEARER: dict[str, list[str]] = {"bearerAuth": []}
BASIC: dict[str, list[str]] = {"basicAuth": []}
SECURITY_SCHEMES = {
    "basicAuth": {"type": "http", "scheme": "basic"},
    "bearerAuth": {"type": "http", "scheme": "bearer"},
}


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
    _check_second_factor(user)
    account_deletion.restore_on_sign_in(user)  # signing in undoes a deactivation or a scheduled deletion
    return user


def _check_second_factor(user: User) -> None:
    """An account with two-factor sign-in also sends a current code (or a recovery code) in the
    ``X-OTP`` header, as GitHub's API asks: otherwise the password alone would make a token. A moderator
    or admin the site requires it of, who has not turned it on, gets no token (403)."""
    if two_factor.staff_must_enrol(user):
        abort_json(403, _("Your role requires two-factor authentication. Please turn it on to continue."))
    if not user.two_factor_enabled:
        return
    code = request.headers.get("X-OTP")
    if not code:
        abort_json(401, _("This account uses two-factor authentication: send a current code in the X-OTP "
                          "header."), headers={"WWW-Authenticate": 'Basic realm="api"', "X-OTP": "required"})
    via = two_factor.verify_code(user, code)
    if via is None:
        abort_json(401, two_factor.invalid_code_message(), headers={"WWW-Authenticate": 'Basic realm="api"'})
    accounts.record_sign_in(user, via=f"api_{via}")


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
