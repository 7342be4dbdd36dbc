"""API moderation under /api/admin: reports, hiding and deleting posts, hiding their images, suspending,
roles, deleting accounts, the audit log and the mail outbox. The same services and permission check as
/admin; every caller without the permission gets 403."""

from __future__ import annotations

from microblog import mail, ratelimits
from microblog.api.auth import BEARER, permission_required, token_required
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
    SiteSettingsSchema,
)
from microblog.bearer import signed_in_api_user
from microblog.models import Permission, Post, Report, User
from microblog.services import audit, moderation, reports, roles, site_settings
from microblog.web import abort_json, get_or_404

bp = Blueprint("api_admin", __name__, url_prefix="/api/admin",
               description="Moderation, for moderators and administrators (403 for everyone else)")


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


@bp.route("/reports/<id:report_id>", methods=["POST"])
@_staff(Permission.HANDLE_REPORTS, write=True)
@bp.arguments(HandleReportSchema)
@bp.response(200, ReportSchema)
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def handle_report(data, report_id: int):
    """Resolve (action taken) or dismiss (no action needed) an open report; the reporter is notified."""
    report = reports.get_report(report_id) or abort_json(404)
    return reports.handle_report(signed_in_api_user(), report, data["outcome"], data.get("note"))


# -- posts ---------------------------------------------------------------------------------------
@bp.route("/posts/<id:post_id>/hide", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(200, ModeratedPostSchema)
@bp.alt_response(404, response="NOT_FOUND")
def hide_post(data, post_id: int):
    """Hide a post from everyone but its author and the moderators (its open reports are resolved)."""
    return moderation.hide_post(signed_in_api_user(), get_or_404(Post, post_id), data["reason"])


@bp.route("/posts/<id:post_id>/unhide", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(OptionalReasonSchema)
@bp.response(200, ModeratedPostSchema)
@bp.alt_response(404, response="NOT_FOUND")
def unhide_post(data, post_id: int):
    """Show a hidden post again."""
    return moderation.unhide_post(signed_in_api_user(), get_or_404(Post, post_id), data.get("reason"))


@bp.route("/posts/<id:post_id>/hide-images", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(200, ModeratedPostSchema)
@bp.alt_response(404, response="NOT_FOUND")
def hide_images(data, post_id: int):
    """Replace a post's images by a notice for everyone but the moderators (its open reports are
    resolved); 422 for a post without images."""
    return moderation.hide_media(signed_in_api_user(), get_or_404(Post, post_id), data["reason"])


@bp.route("/posts/<id:post_id>/unhide-images", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(OptionalReasonSchema)
@bp.response(200, ModeratedPostSchema)
@bp.alt_response(404, response="NOT_FOUND")
def unhide_images(data, post_id: int):
    """Show a post's hidden images again."""
    return moderation.unhide_media(signed_in_api_user(), get_or_404(Post, post_id), data.get("reason"))


@bp.route("/posts/<id:post_id>/delete", methods=["POST"])
@_staff(Permission.MODERATE_POSTS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(204)
@bp.alt_response(404, response="NOT_FOUND")
def delete_post(data, post_id: int):
    """Delete anyone's post (its open reports are resolved)."""
    moderation.delete_post(signed_in_api_user(), get_or_404(Post, post_id), data["reason"])
    return ""


# -- accounts ------------------------------------------------------------------------------------
@bp.route("/users/<id:user_id>", methods=["GET"])
@_staff(Permission.SUSPEND_USERS)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_user(user_id: int):
    """An account with its role and suspension."""
    return get_or_404(User, user_id)


@bp.route("/users/<id:user_id>/suspend", methods=["POST"])
@_staff(Permission.SUSPEND_USERS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def suspend_user(data, user_id: int):
    """Suspend an account whose role is below yours: it can read, export and sign out, but change nothing."""
    return moderation.suspend_user(signed_in_api_user(), get_or_404(User, user_id), data["reason"])


@bp.route("/users/<id:user_id>/unsuspend", methods=["POST"])
@_staff(Permission.SUSPEND_USERS, write=True)
@bp.arguments(OptionalReasonSchema)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def unsuspend_user(data, user_id: int):
    """Lift a suspension."""
    return moderation.unsuspend_user(signed_in_api_user(), get_or_404(User, user_id), data.get("reason"))


@bp.route("/users/<id:user_id>/role", methods=["PUT"])
@_staff(Permission.CHANGE_ROLES, write=True)
@bp.arguments(RoleChangeSchema)
@bp.response(200, ModeratedUserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def change_role(data, user_id: int):
    """Give an account the role ``user``, ``moderator`` or ``admin`` (administrators only; not your own)."""
    user = get_or_404(User, user_id)
    return roles.change_role(signed_in_api_user(), user, data["role"], data.get("reason"))


@bp.route("/users/<id:user_id>/delete", methods=["POST"])
@_staff(Permission.DELETE_USERS, write=True)
@bp.arguments(ReasonSchema)
@bp.response(204)
@bp.alt_response(404, response="NOT_FOUND")
def delete_user(data, user_id: int):
    """Delete an account with its posts, follows and messages, in one transaction (administrators only)."""
    moderation.delete_account(signed_in_api_user(), get_or_404(User, user_id), data["reason"])
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


# -- site settings -------------------------------------------------------------------------------
def _site_settings() -> dict:
    return {"require_2fa_for_staff": site_settings.staff_two_factor_required(),
            "require_2fa_for_staff_forced": site_settings.staff_two_factor_forced()}


@bp.route("/settings", methods=["GET"])
@_staff(Permission.MANAGE_SETTINGS)
@bp.response(200, SiteSettingsSchema)
def get_settings():
    """The site's settings (administrators only)."""
    return _site_settings()


@bp.route("/settings", methods=["PUT"])
@_staff(Permission.MANAGE_SETTINGS, write=True)
@bp.arguments(SiteSettingsSchema)
@bp.response(200, SiteSettingsSchema)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def put_settings(data):
    """Change the site's settings (administrators only; audited). Requiring two-factor sign-in of staff
    needs it on the caller's own account first (422)."""
    site_settings.set_staff_two_factor(signed_in_api_user(), data["require_2fa_for_staff"])
    return _site_settings()
