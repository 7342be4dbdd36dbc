"""API moderation under /api/admin: reports, hiding and deleting posts, suspending, roles, deleting
accounts, the audit log and the mail outbox. The same services and permission check as /admin; every
caller without the permission gets 403."""

from __future__ import annotations

from typing import Any

from microblog import mail, ratelimits
from microblog.api.auth import BEARER, permission_required, token_required
from microblog.api.errors import abort_for
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import (
    AuditListSchema,
    HandleReportSchema,
    ModeratedPostSchema,
    ModeratedUserSchema,
    OptionalReasonSchema,
    OutboxArgs,
    OutboxListSchema,
    PaginationArgs,
    ReasonSchema,
    ReportArgs,
    ReportListSchema,
    ReportSchema,
    RoleChangeSchema,
)
from microblog.bearer import current_api_user
from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.models import ID_MAX, Permission, Post, Report, User
from microblog.services import audit, moderation, reports, roles
from microblog.web import abort_json

bp = Blueprint("api_admin", __name__, url_prefix="/api/admin",
               description="Moderation, for moderators and administrators (403 for everyone else)")


def _post_or_404(post_id: int) -> Post:
    return moderation.get_post(post_id) or abort_json(404)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= ID_MAX else None
    return user or abort_json(404)


def _run(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except DomainError as exc:
        abort_for(exc)


def _staff(permission: Permission, *, write: bool = False):
    """Bearer token, the permission, the write limit when it changes something, and their documentation."""

    def decorator(view):
        if write:
            view = ratelimits.api_writes(view)
        view = permission_required(permission)(view)
        view = token_required(view)
        view = bp.alt_response(401, response="UNAUTHORIZED")(view)
        view = bp.alt_response(403, response="FORBIDDEN")(view)
        return bp.doc(security=[BEARER])(view)

    return decorator


# -- reports -------------------------------------------------------------------------------------
@bp.route("/reports", methods=["GET"])
@_staff(Permission.HANDLE_REPORTS)
@bp.arguments(ReportArgs, location="query")
@bp.response(200, ReportListSchema)
def get_reports(args):
    """Reports with a status (``open`` by default: the queue, oldest first)."""
    return page_of(Report.queue_select(args["status"]), args, status=args["status"])


@bp.route("/reports/<int:report_id>", methods=["POST"])
@_staff(Permission.HANDLE_REPORTS, write=True)
@bp.arguments(HandleReportSchema)
@bp.response(200, ReportSchema)
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def handle_report(data, report_id: int):
    """Resolve (action taken) or dismiss (no action needed) an open report; the reporter is notified."""
    report = reports.get_report(report_id) or abort_json(404)
    return _run(reports.handle_report, current_api_user(), report, data["outcome"], data.get("note"))


# -- posts ---------------------------------------------------------------------------------------
@bp.route("/posts/<int:post_id>/hide", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(200, ModeratedPostSchema)
@bp.alt_response(404, response="NOT_FOUND")
def hide_post(data, post_id: int):
    """Hide a post from everyone but its author and the moderators (its open reports are resolved)."""
    return _run(moderation.hide_post, current_api_user(), _post_or_404(post_id), data["reason"])


@bp.route("/posts/<int:post_id>/unhide", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(OptionalReasonSchema)
@bp.response(200, ModeratedPostSchema)
@bp.alt_response(404, response="NOT_FOUND")
def unhide_post(data, post_id: int):
    """Show a hidden post again."""
    return _run(moderation.unhide_post, current_api_user(), _post_or_404(post_id), data.get("reason"))


@bp.route("/posts/<int:post_id>/delete", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(204)
@bp.alt_response(404, response="NOT_FOUND")
def delete_post(data, post_id: int):
    """Delete anyone's post (its open reports are resolved)."""
    _run(moderation.delete_post, current_api_user(), _post_or_404(post_id), data["reason"])
    return ""


# -- accounts ------------------------------------------------------------------------------------
@bp.route("/users/<int:user_id>", methods=["GET"])
@_staff(Permission.SUSPEND_USERS)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_user(user_id: int):
    """An account with its role and suspension."""
    return _user_or_404(user_id)


@bp.route("/users/<int:user_id>/suspend", methods=["POST"])
@_staff(Permission.SUSPEND_USERS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def suspend_user(data, user_id: int):
    """Suspend an account whose role is below yours: it can read, export and sign out, but change nothing."""
    return _run(moderation.suspend_user, current_api_user(), _user_or_404(user_id), data["reason"])


@bp.route("/users/<int:user_id>/unsuspend", methods=["POST"])
@_staff(Permission.SUSPEND_USERS, write=True)
@bp.arguments(OptionalReasonSchema)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def unsuspend_user(data, user_id: int):
    """Lift a suspension."""
    return _run(moderation.unsuspend_user, current_api_user(), _user_or_404(user_id), data.get("reason"))


@bp.route("/users/<int:user_id>/role", methods=["PUT"])
@_staff(Permission.CHANGE_ROLES, write=True)
@bp.arguments(RoleChangeSchema)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def change_role(data, user_id: int):
    """Give an account the role ``user``, ``moderator`` or ``admin`` (administrators only; not your own)."""
    user = _user_or_404(user_id)
    return _run(roles.change_role, current_api_user(), user, data["role"], data.get("reason"))


@bp.route("/users/<int:user_id>/delete", methods=["POST"])
@_staff(Permission.DELETE_USERS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(204)
@bp.alt_response(404, response="NOT_FOUND")
def delete_user(data, user_id: int):
    """Delete an account with its posts, follows and messages, in one transaction (administrators only)."""
    _run(moderation.delete_account, current_api_user(), _user_or_404(user_id), data["reason"])
    return ""


# -- records -------------------------------------------------------------------------------------
@bp.route("/audit", methods=["GET"])
@_staff(Permission.VIEW_AUDIT_LOG)
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, AuditListSchema)
def get_audit_log(args):
    """The audit log, newest first (administrators only). It cannot be changed."""
    return page_of(audit.entries_select(), args)


@bp.route("/outbox", methods=["GET"])
@_staff(Permission.VIEW_OUTBOX)
@bp.arguments(OutboxArgs, location="query")
@bp.response(200, OutboxListSchema)
def get_outbox(args):
    """The mail outbox, newest first, with counts by status (administrators only)."""
    status = args.get("status")
    extra = {"status": status} if status else {}
    return {"counts": mail.outbox_counts(), **page_of(mail.outbox_select(status), args, **extra)}
