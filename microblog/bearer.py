"""Who an API request speaks for: the bearer token in its Authorization header, looked up once.

The API's views, the rate limits and the suspension check all ask; none of them imports the API.
"""

from __future__ import annotations

from flask import abort, g, request

from microblog.models import User
from microblog.services import api_tokens


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_api_user() -> User | None:
    """The user behind this request's bearer token (checked once per request), or None."""
    if "api_user" not in g:
        token = bearer_token()
        g.api_user = api_tokens.user_for_token(token) if token else None
    return g.api_user


def signed_in_api_user() -> User:
    """The bearer token's user, for views behind ``token_required`` (401 should there be none)."""
    user = current_api_user()
    if user is None:
        abort(401)
    return user
