"""Export routes: start an export, follow its progress (HTML and JSON), download the result."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.exceptions import DomainError
from microblog.forms import EmptyForm
from microblog.services import exports
from microblog.suspension import allowed_while_suspended

bp = Blueprint("exports", __name__)


@bp.route("/export/<fmt>", methods=["POST"])
@allowed_while_suspended  # your data is yours to take, suspended or not
@login_required
def start(fmt: str):
    """Start exporting your posts as CSV or JSON (POST with a CSRF token), then show its progress."""
    if fmt not in exports.FORMATS:
        abort(404)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("main.user", username=current_user.username))
    try:
        task = exports.start_export(current_user, fmt)
    except exports.ExportInProgress as exc:
        flash(exc.message, "info")
        return redirect(url_for("exports.task_page", task_id=exc.task_id))
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("main.user", username=current_user.username))
    return redirect(url_for("exports.task_page", task_id=task.id))


@bp.route("/tasks/<task_id>")
@login_required
def task_page(task_id: str):
    """A progress bar for one of your tasks; a script polls its JSON status and shows the link."""
    task = exports.task_for(current_user, task_id) or abort(404)
    status = exports.task_status(task, url_for("exports.download", task_id=task.id))
    return render_template("exports/task.html", title=_("Your export"), task=task, status=status)


@bp.route("/tasks/<task_id>.json")
@login_required
def task_status(task_id: str):
    """The status of one of your tasks, for the progress bar: status, progress, download_url."""
    task = exports.task_for(current_user, task_id) or abort(404)
    response = exports.task_status(task, url_for("exports.download", task_id=task.id))
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/export/<task_id>/download")
@login_required
def download(task_id: str):
    """Your export file, as an attachment, until it expires."""
    task = exports.task_for(current_user, task_id) or abort(404)
    path = exports.export_file_for(current_user, task.id) or abort(404)
    response = send_file(
        path, mimetype=exports.content_type(task), as_attachment=True,
        download_name=exports.download_name(task),
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
