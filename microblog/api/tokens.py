"""API tokens: HTTP Basic in, a bearer token out; DELETE revokes the token in use."""

from __future__ import annotations

from flask import current_app

from microblog import ratelimits
from microblog.api.auth import BASIC, BEARER, basic_user, token_required
from microblog.api.parsing import Blueprint
from microblog.api.schemas import TokenSchema
from microblog.bearer import bearer_token
from microblog.extensions import limiter
from microblog.services import api_tokens
from microblog.suspension import allowed_while_suspended

bp = Blueprint("api_tokens", __name__, url_prefix="/api", description="Bearer tokens")


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/tokens", methods=["POST"])
@allowed_while_suspended  # signing in: a suspended account can still read through the API
@limiter.limit(_login_limit)
@ratelimits.login_per_account
@bp.response(201, TokenSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BASIC])
def create_token():
    """Get a bearer token with your username and password (HTTP Basic)."""
    plain, token = api_tokens.issue_token(basic_user())
    return {"token": plain, "expires_at": token.expires_at, "user_id": token.user_id}


@bp.route("/tokens", methods=["DELETE"])
@allowed_while_suspended  # signing out
@token_required
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def revoke_token():
    """Revoke the bearer token this request carries."""
    api_tokens.revoke_token(bearer_token() or "")
    return ""
