"""API reports: anyone with a token can ask the moderators to look at a post or an account."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from microblog.api.auth import BEARER, current_api_user, token_required
from microblog.api.errors import abort_for, abort_json
from microblog.api.schemas import NewReportSchema, ReportSchema
from microblog.exceptions import DomainError
from microblog.extensions import db, limiter
from microblog.models import ID_MAX, User
from microblog.services import moderation, reports

bp = Blueprint("api_reports", __name__, url_prefix="/api", description="Reports to the moderators")


def _write_limit() -> str:
    return current_app.config["RATELIMIT_API_WRITES"]


@bp.route("/reports", methods=["POST"])
@token_required
@limiter.limit(_write_limit)
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
    try:
        if "post_id" in data:
            post = moderation.get_post(data["post_id"])
            if post is None or not post.visible_to(me):
                abort_json(404)
            report = reports.report_post(me, post, data["reason"])
        else:
            user = db.session.get(User, data["user_id"]) if 0 < data["user_id"] <= ID_MAX else None
            if user is None:
                abort_json(404)
            report = reports.report_user(me, user, data["reason"])
    except DomainError as exc:
        abort_for(exc)
    return report, 201
