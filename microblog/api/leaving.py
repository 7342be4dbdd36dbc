"""API account: the caller's own account, deactivating it and asking for its deletion (leaving).

There is no call to cancel a deletion: signing in (``POST /api/tokens``, or the web sign-in) cancels it,
as it reactivates a deactivated account. Both calls revoke every token, the one in use included.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _

from microblog import ratelimits
from microblog.api.account_schemas import AccountSchema, DeletionScheduledSchema, LeaveAccountSchema
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import Blueprint
from microblog.bearer import current_api_user
from microblog.extensions import limiter
from microblog.models import User
from microblog.services import account_deletion
from microblog.suspension import allowed_while_suspended

bp = Blueprint("api_leaving", __name__, url_prefix="/api", description="Your account: leaving")


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _me() -> User:
    user = current_api_user()
    assert user is not None  # token_required
    return user


@bp.route("/account", methods=["GET"])
@allowed_while_suspended
@token_required
@bp.response(200, AccountSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_account():
    """Your account, with the date of its deletion if you asked for one."""
    return _me()


@bp.route("/account/deactivate", methods=["POST"])
@token_required
@ratelimits.api_writes
@limiter.limit(_login_limit)  # it checks a password
@bp.arguments(LeaveAccountSchema)
@bp.response(204)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def deactivate_account(data):
    """Hide your profile and posts from everyone else and revoke every token; signing in again brings
    the account back. Needs your password, and ``otp`` with two-factor authentication."""
    account_deletion.deactivate_account(_me(), data["password"], data["otp"])
    return ""


@bp.route("/account/delete", methods=["POST"])
@token_required
@ratelimits.api_writes
@limiter.limit(_login_limit)
@bp.arguments(LeaveAccountSchema)
@bp.response(202, DeletionScheduledSchema)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def delete_account(data):
    """Delete your account after the grace period (30 days unless the site says otherwise). Until then it
    is deactivated, every token is revoked, and signing in cancels the deletion."""
    due = account_deletion.schedule_deletion(_me(), data["password"], data["otp"])
    message = _("Your account will be deleted on %(date)s. Sign in before then to cancel.",
                date=format_date(due, "long"))
    return {"deletion_due_at": due, "message": message}, 202
