"""API account address: read it, with any change waiting for confirmation, and ask for a new one.

The links that confirm a new address and undo a change stay in the mail (web pages): an API token
never confirms a mailbox.
"""

from __future__ import annotations

from typing import Any

from microblog import ratelimits
from microblog.api.account_schemas import EmailChangeRequestSchema, EmailStateSchema
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import Blueprint
from microblog.bearer import current_api_user
from microblog.models import User
from microblog.services import email_change

bp = Blueprint("api_account", __name__, url_prefix="/api/account", description="Your account")


def _state(user: User) -> dict[str, Any]:
    pending = email_change.pending_change(user)
    return {
        "email": user.email,
        "confirmed": user.confirmed_at is not None,
        "pending": None if pending is None else {
            "email": pending.email, "requested_at": pending.requested_at, "expires_at": pending.expires_at},
    }


@bp.route("/email", methods=["GET"])
@token_required
@bp.response(200, EmailStateSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_email():
    """Your address, whether it is confirmed, and a change waiting for its link."""
    user = current_api_user()
    assert user is not None  # token_required
    return _state(user)


@bp.route("/email", methods=["POST"])
@token_required
@ratelimits.api_writes
@ratelimits.email_changes_per_account
@bp.arguments(EmailChangeRequestSchema)
@bp.response(202, EmailStateSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def update_email(data):
    """Ask for a new address: needs your password (and ``otp`` with two-factor sign-in). A link goes to
    the new address, which changes when it is opened (24 hours); the answer is the same whether or not
    the address already has an account."""
    user = current_api_user()
    assert user is not None  # token_required
    email_change.request_change(user, data["email"], data["password"], data.get("otp"))
    return _state(user), 202
