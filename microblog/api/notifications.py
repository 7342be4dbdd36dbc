"""API notifications: list yours, and mark them read."""

from __future__ import annotations

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import NotificationArgs, NotificationListSchema
from microblog.bearer import current_api_user
from microblog.services import notifications

bp = Blueprint("api_notifications", __name__, url_prefix="/api", description="Notifications")


@bp.route("/notifications", methods=["GET"])
@token_required
@bp.arguments(NotificationArgs, location="query")
@bp.response(200, NotificationListSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_notifications(args):
    """Your notifications, newest first (``unread=true``: only the unread ones).

    Reading the list marks nothing; ``POST /api/notifications/read`` does.
    """
    if args["unread"]:
        return page_of(current_api_user().notifications_select(unread_only=True), args, unread="true")
    return page_of(current_api_user().notifications_select(), args)


@bp.route("/notifications/read", methods=["POST"])
@token_required
@ratelimits.api_writes
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def mark_notifications_read():
    """Mark all your notifications read."""
    notifications.mark_all_read(current_api_user())
    return ""
