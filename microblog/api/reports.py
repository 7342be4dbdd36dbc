"""API reports: anyone with a token can ask the moderators to look at a post or an account."""

from __future__ import annotations

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import Blueprint
from microblog.api.schemas import NewReportSchema, ReportSchema
from microblog.bearer import current_api_user
from microblog.services import posts, reports
from microblog.web import abort_json, active_user_or_404

bp = Blueprint("api_reports", __name__, url_prefix="/api", description="Reports to the moderators")


@bp.route("/reports", methods=["POST"])
@token_required
@ratelimits.api_writes
@bp.arguments(NewReportSchema)
@bp.response(201, ReportSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def create_report(data):
    """Report a post (``post_id``) or an account (``user_id``) with a reason; you are told the outcome."""
    me = current_api_user()
    if "post_id" in data:
        post = posts.visible_post(me, data["post_id"])
        if post is None:
            abort_json(404)
        report = reports.report_post(me, post, data["reason"])
    else:
        report = reports.report_user(me, active_user_or_404(data["user_id"]), data["reason"])
    return report, 201
