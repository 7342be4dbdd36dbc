"""The admin and moderator area: dashboard and charts, reports, post and account moderation, other
servers (domain blocks), the audit log, the mail outbox and site exports. Every view is guarded by
``permission_required``.

Size: one module for the admin blueprint's views, each a thin call to a service; the shared guard and
action helpers would otherwise have to move to a module of their own."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import charts, mail
from microblog.admin import labels
from microblog.admin.forms import (
    BlockDomainForm,
    HandleReportForm,
    OptionalReasonForm,
    ReasonForm,
    RoleForm,
    SiteSettingsForm,
)
from microblog.exceptions import DomainError
from microblog.forms import EmptyForm, submitted
from microblog.models import (
    OUTBOX_FAILED,
    REPORT_OPEN,
    REPORT_STATUSES,
    ROLES,
    Permission,
    Post,
    Report,
)
from microblog.pagination import paginate, requested_page
from microblog.paging import PageNotFound
from microblog.services import (
    admin_exports,
    audit,
    instances,
    media,
    moderation,
    reports,
    roles,
    site_settings,
    stats,
    users_query,
)
from microblog.web import get_or_404, user_or_404

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


def permission_required(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Sign-in, then ``roles.require(current_user, permission)``: everyone else gets a 403 page."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                roles.require(current_user, permission)
            except DomainError:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.app_context_processor
def admin_labels() -> dict[str, Any]:
    return {"role_names": labels.role_names, "Permission": Permission}


def _act(form_class: type[Any], action: Callable[[Any], Any], success: str) -> bool:
    """Validate the action's form, run the service call and flash the outcome. True when it succeeded."""
    form = form_class()
    if not form.validate_on_submit():
        errors = [error for field in form for error in field.errors]
        flash(errors[0] if errors else _("Please check the form and try again."), "danger")
        return False
    try:
        action(form)
    except DomainError as exc:
        flash(exc.message, "danger")
        return False
    flash(success, "success")
    return True


def _images_of(posts: Iterable[Post]) -> dict[int, list[media.MediaRow]]:
    """The images of these posts, hidden or not, in one statement (none when no post has images)."""
    return media.media_of_posts([post.id for post in posts if post.media_count])


# -- dashboard -----------------------------------------------------------------------------------
@bp.route("/")
@permission_required(Permission.VIEW_DASHBOARD)
def dashboard():
    """Counts, links to the other tools, and the charts (drawn by charts.js from the JSON below)."""
    return render_template(
        "admin/dashboard.html", title=_("Admin"), totals=stats.totals(), charts=list(charts.DASHBOARD),
        open_reports=reports.counts_by_status().get(REPORT_OPEN, 0), export_form=EmptyForm(),
    )


@bp.route("/charts/<name>.json")
@permission_required(Permission.VIEW_DASHBOARD)
def chart_data(name: str):
    """The data of one dashboard chart (see microblog/charts.py for the shape)."""
    build = charts.DASHBOARD.get(name) or abort(404)
    return build(), 200, {"Cache-Control": "private, no-store"}


# -- reports ------------------------------------------------------------------------------------
@bp.route("/reports")
@permission_required(Permission.HANDLE_REPORTS)
def report_queue():
    """Reports by status: open ones oldest first (the queue), closed ones newest first; a reported post's
    images are shown (hidden ones too) so they can be judged."""
    status = request.args.get("status", REPORT_OPEN)
    if status not in REPORT_STATUSES:
        abort(404)
    page = paginate(Report.queue_select(status), requested_page(), PER_PAGE)
    images = _images_of(report.post for report in page.items if report.post is not None)
    return render_template("admin/reports.html", title=_("Reports"), page=page, status=status,
                           counts=reports.counts_by_status(), statuses=labels.report_status_names(),
                           form=HandleReportForm(), images=images)


@bp.route("/reports/<id:report_id>", methods=["POST"])
@permission_required(Permission.HANDLE_REPORTS)
def handle_report(report_id: int):
    """Resolve or dismiss a report; its reporter is notified."""
    report = reports.get_report(report_id) or abort(404)
    _act(HandleReportForm,
         lambda form: reports.handle_report(current_user, report, form.outcome.data, form.note.data),
         _("The report has been closed and the reporter notified."))
    return redirect(url_for("admin.report_queue"))


# -- posts --------------------------------------------------------------------------------------
@bp.route("/posts/<id:post_id>")
@permission_required(Permission.MODERATE_POSTS)
def post(post_id: int):
    """One post with its open reports, its images (hidden ones too) and its moderation history, and the
    forms to act on it."""
    target = get_or_404(Post, post_id)
    return render_template(
        "admin/post.html", title=_("Moderate a post"), post=target, history=audit.history("post", target.id),
        open_reports=reports.open_reports_about(post_ids=[target.id]), actions=labels.action_names(),
        reason_form=ReasonForm(), optional_form=OptionalReasonForm(),
        images=_images_of([target]).get(target.id, []),
    )


@bp.route("/posts/<id:post_id>/<action>", methods=["POST"])
@permission_required(Permission.MODERATE_POSTS)
def moderate_post(post_id: int, action: str):
    """Hide, show again or delete a post, or hide or show again its images, with a reason for the audit
    log."""
    target = get_or_404(Post, post_id)
    actions: dict[str, tuple[type[Any], Callable[[Any], Any], str]] = {
        "hide-images": (ReasonForm,
                        lambda form: moderation.hide_media(current_user, target, form.reason.data),
                        _("The post's images are hidden.")),
        "unhide-images": (OptionalReasonForm,
                          lambda form: moderation.unhide_media(current_user, target, form.reason.data),
                          _("The post's images are visible again.")),
        "hide": (ReasonForm, lambda form: moderation.hide_post(current_user, target, form.reason.data),
                 _("The post is hidden.")),
        "unhide": (OptionalReasonForm,
                   lambda form: moderation.unhide_post(current_user, target, form.reason.data),
                   _("The post is visible again.")),
        "delete": (ReasonForm, lambda form: moderation.delete_post(current_user, target, form.reason.data),
                   _("The post has been deleted.")),
    }
    if action not in actions:
        abort(404)
    if not _act(*actions[action]):
        return redirect(url_for("admin.post", post_id=post_id))
    if action == "delete":
        return redirect(url_for("admin.report_queue"))
    return redirect(url_for("admin.post", post_id=post_id))


# -- accounts -----------------------------------------------------------------------------------
@bp.route("/users")
@permission_required(Permission.SUSPEND_USERS)
def users():
    """Accounts, newest first; ``?role=`` and ``?suspended=1`` narrow the list."""
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    suspended = request.args.get("suspended") == "1"
    page = paginate(users_query.all_users_select(role=role, suspended=suspended), requested_page(), PER_PAGE)
    filters = {"role": role} if role else {"suspended": 1} if suspended else {}
    return render_template("admin/users.html", title=_("Accounts"), page=page, role=role, suspended=suspended,
                           filters=filters)


@bp.route("/users/<username>")
@permission_required(Permission.SUSPEND_USERS)
def user(username: str):
    """One account: its role and state, the reports about it, its history, and the forms to act on it."""
    person = user_or_404(username, include_deactivated=True)
    return render_template(
        "admin/user.html", title=_("Moderate %(username)s", username=person.username), person=person,
        history=audit.history("user", person.id), open_reports=reports.open_reports_about(user_id=person.id),
        reason_form=ReasonForm(), optional_form=OptionalReasonForm(), role_form=RoleForm(role=person.role),
        actions=labels.action_names(),
    )


@bp.route("/users/<username>/<action>", methods=["POST"])
@permission_required(Permission.SUSPEND_USERS)
def moderate_user(username: str, action: str):
    """Suspend an account, or lift its suspension (the service checks that its role is below yours)."""
    person = user_or_404(username, include_deactivated=True)
    actions: dict[str, tuple[type[Any], Callable[[Any], Any], str]] = {
        "suspend": (ReasonForm, lambda form: moderation.suspend_user(current_user, person, form.reason.data),
                    _("%(username)s is suspended.", username=person.username)),
        "unsuspend": (OptionalReasonForm,
                      lambda form: moderation.unsuspend_user(current_user, person, form.reason.data),
                      _("%(username)s is no longer suspended.", username=person.username)),
    }
    if action not in actions:
        abort(404)
    _act(*actions[action])
    return redirect(url_for("admin.user", username=person.username))


@bp.route("/users/<username>/role", methods=["POST"])
@permission_required(Permission.CHANGE_ROLES)
def change_role(username: str):
    """Give an account another role (not your own)."""
    person = user_or_404(username, include_deactivated=True)
    _act(RoleForm, lambda form: roles.change_role(current_user, person, form.role.data, form.reason.data),
         _("%(username)s's role has been changed.", username=person.username))
    return redirect(url_for("admin.user", username=person.username))


@bp.route("/users/<username>/delete", methods=["POST"])
@permission_required(Permission.DELETE_USERS)
def delete_user(username: str):
    """Delete an account with its posts, follows and messages."""
    person = user_or_404(username, include_deactivated=True)
    name = person.username
    if _act(ReasonForm, lambda form: moderation.delete_account(current_user, person, form.reason.data),
            _("The account %(username)s has been deleted.", username=name)):
        return redirect(url_for("admin.users"))
    return redirect(url_for("admin.user", username=name))


# -- other servers ------------------------------------------------------------------------------
@bp.route("/instances")
@permission_required(instances.PERMISSION)
def instance_list():
    """The servers this site knows (``?q=`` narrows by domain), A to Z: accounts, blocks, media
    rejection and delivery state; and the form to block one."""
    return _instances_page(BlockDomainForm())


def _instances_page(form: BlockDomainForm, status: int = 200):
    query = request.args.get("q", "").strip()[:100]
    try:
        page = instances.list_instances(query, requested_page(), PER_PAGE)
    except PageNotFound:
        abort(404)
    return render_template("admin/instances.html", title=_("Other servers"), page=page, query=query,
                           form=form, action_form=EmptyForm()), status


@bp.route("/instances/block", methods=["POST"])
@permission_required(instances.PERMISSION)
def block_instance():
    """Block a domain (its accounts and their posts are deleted), or only reject its media."""
    form = BlockDomainForm()
    if submitted(form, lambda: instances.block_domain(current_user, form.domain.data, form.reason.data,
                                                      reject_media_only=bool(form.reject_media_only.data))):
        domain = instances.normalize_domain(form.domain.data)
        flash(_("Media from %(domain)s are rejected.", domain=domain) if form.reject_media_only.data
              else _("%(domain)s is blocked.", domain=domain), "success")
        return redirect(url_for("admin.instance_list"))
    return _instances_page(form, 400)


@bp.route("/instances/<domain>/unblock", methods=["POST"])
@permission_required(instances.PERMISSION)
def unblock_instance(domain: str):
    """Lift a domain's block."""
    _act(EmptyForm, lambda form: instances.unblock_domain(current_user, domain),
         _("%(domain)s is no longer blocked.", domain=domain))
    return redirect(url_for("admin.instance_list"))


@bp.route("/instances/<domain>/reject_media", methods=["POST"])
@permission_required(instances.PERMISSION)
def reject_media(domain: str):
    """Reject a domain's media: its posts arrive without their images."""
    _act(EmptyForm, lambda form: instances.set_reject_media(current_user, domain, True),
         _("Media from %(domain)s are rejected.", domain=domain))
    return redirect(url_for("admin.instance_list"))


@bp.route("/instances/<domain>/accept_media", methods=["POST"])
@permission_required(instances.PERMISSION)
def accept_media(domain: str):
    """Accept a domain's media again."""
    _act(EmptyForm, lambda form: instances.set_reject_media(current_user, domain, False),
         _("Media from %(domain)s are accepted again.", domain=domain))
    return redirect(url_for("admin.instance_list"))


# -- site settings ------------------------------------------------------------------------------
@bp.route("/settings", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_SETTINGS)
def settings():
    """Settings of the whole site. Each change is audited; one the server's environment fixes is shown
    as such and cannot be turned off here."""
    forced = site_settings.staff_two_factor_forced()
    form = SiteSettingsForm()
    if form.validate_on_submit():
        wanted = forced or bool(form.staff_two_factor.data)
        try:
            changed = site_settings.set_staff_two_factor(current_user, wanted)
        except DomainError as exc:
            form.staff_two_factor.errors = [exc.message]
            return render_template("admin/settings.html", title=_("Site settings"), form=form,
                                   forced=forced), 400
        flash(_("The settings have been saved.") if changed else _("Nothing changed."),
              "success" if changed else "info")
        return redirect(url_for("admin.settings"))
    if request.method == "GET":
        form.staff_two_factor.data = site_settings.staff_two_factor_required()
    return render_template("admin/settings.html", title=_("Site settings"), form=form, forced=forced)


# -- records ------------------------------------------------------------------------------------
@bp.route("/audit")
@permission_required(Permission.VIEW_AUDIT_LOG)
def audit_log():
    """Every moderation action, newest first. Read-only: there is no way to change an entry."""
    page = paginate(audit.entries_select(), requested_page(), PER_PAGE)
    return render_template("admin/audit.html", title=_("Audit log"), page=page, actions=labels.action_names(),
                           settings=labels.setting_names())


@bp.route("/outbox")
@permission_required(Permission.VIEW_OUTBOX)
def outbox():
    """The mail outbox: counts by status and the messages, newest first (``?status=failed``...)."""
    status = request.args.get("status")
    statuses = labels.outbox_status_names()
    if status is not None and status not in statuses:
        abort(404)
    page = paginate(mail.outbox_select(status), requested_page(), PER_PAGE)
    return render_template("admin/outbox.html", title=_("Mail outbox"), page=page, status=status,
                           counts=mail.outbox_counts(), statuses=statuses, failed=OUTBOX_FAILED)


# -- exports ------------------------------------------------------------------------------------
@bp.route("/exports/<kind>", methods=["POST"])
@permission_required(Permission.EXPORT_DATA)
def start_export(kind: str):
    """Export every account or every post as CSV in the background, then show its progress."""
    if kind not in admin_exports.KINDS:
        abort(404)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.dashboard"))
    task = admin_exports.start(current_user, kind)
    return redirect(url_for("admin.export_task", task_id=task.id))


@bp.route("/tasks/<task_id>")
@permission_required(Permission.EXPORT_DATA)
def export_task(task_id: str):
    """The progress bar of a site export; tasks.js polls the JSON status."""
    task = admin_exports.task_for(current_user, task_id) or abort(404)
    status = admin_exports.status(task, url_for("admin.download_export", task_id=task.id))
    kind = admin_exports.kind_of(task)
    title = _("Export of all accounts (CSV)") if kind == "users" else _("Export of all posts (CSV)")
    return render_template("admin/task.html", title=title, task=task, status=status,
                           hours=current_app.config["EXPORT_RETENTION_HOURS"])


@bp.route("/tasks/<task_id>.json")
@permission_required(Permission.EXPORT_DATA)
def export_status(task_id: str):
    task = admin_exports.task_for(current_user, task_id) or abort(404)
    status = admin_exports.status(task, url_for("admin.download_export", task_id=task.id))
    return status, 200, {"Cache-Control": "no-store"}


@bp.route("/exports/<task_id>/download")
@permission_required(Permission.EXPORT_DATA)
def download_export(task_id: str):
    """The CSV file of a finished site export, until it expires."""
    task = admin_exports.task_for(current_user, task_id) or abort(404)
    path = admin_exports.file_for(task) or abort(404)
    response = send_file(path, mimetype="text/csv", as_attachment=True,
                         download_name=admin_exports.download_name(task))
    response.headers["Cache-Control"] = "private, no-store"
    return response
