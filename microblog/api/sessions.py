"""API signed-in sessions: list the browsers signed in to your account, and sign one out."""

from __future__ import annotations

from microblog import ratelimits
from microblog.api.account_schemas import SessionListSchema
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import PaginationArgs
from microblog.bearer import current_api_user
from microblog.services import user_sessions
from microblog.suspension import allowed_while_suspended

bp = Blueprint("api_sessions", __name__, url_prefix="/api", description="Signed-in sessions")


@bp.route("/sessions", methods=["GET"])
@allowed_while_suspended
@token_required
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, SessionListSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_sessions(args):
    """The browsers signed in to your account, the most recently active first (API tokens are not
    sessions: ``DELETE /api/tokens`` revokes one)."""
    user = current_api_user()
    assert user is not None  # token_required
    return page_of(user_sessions.active_sessions_select(user), args)


@bp.route("/sessions/<id:session_id>", methods=["DELETE"])
@allowed_while_suspended  # signing out
@token_required
@ratelimits.api_writes
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def delete_session(session_id: int):
    """Sign out one of your sessions (404 when it is not yours or has ended already)."""
    user = current_api_user()
    assert user is not None  # token_required
    user_sessions.revoke_session(user, session_id)
    return ""
