"""Import routes: the upload form, the progress page (HTML and JSON)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import ratelimits
from microblog.exceptions import DomainError
from microblog.imports.forms import ImportForm
from microblog.services import imports
from microblog.web import accepts_files, quiet

bp = Blueprint("imports", __name__)


@bp.route("/settings/import", methods=["GET", "POST"])
@accepts_files(1)
@login_required
@ratelimits.imports_per_account
def start():
    """Upload a CSV file of follows, blocks, mutes or bookmarks; its import runs as a job."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1) if upload else b""
        try:
            task = imports.start_import(current_user, form.kind.data, form.mode.data, data,
                                        upload.filename if upload else None)
        except imports.ImportInProgress as exc:
            flash(exc.message, "info")
            return redirect(url_for("imports.task_page", task_id=exc.task_id))
        except DomainError as exc:
            getattr(form, exc.field or "file", form.file).errors.append(exc.message)
        else:
            return redirect(url_for("imports.task_page", task_id=task.id))
    return render_template("imports/start.html", title=_("Import"), form=form)


@bp.route("/settings/import/<task_id>")
@login_required
def task_page(task_id: str):
    """An import's progress bar; once done, its counts and the lines that were skipped, with why."""
    task = imports.import_for(current_user, task_id) or abort(404)
    status = imports.status_data(task, url_for("imports.task_page", task_id=task.id))
    skipped = imports.skipped_rows(task) if status["status"] == "done" else []
    return render_template("imports/task.html", title=_("Your import"), task=task, status=status,
                           skipped=skipped, shown=imports.SKIPPED_SHOWN)


@bp.route("/settings/import/<task_id>.json")
@quiet
@login_required
def task_status(task_id: str):
    """The status of one of your imports, for the progress bar."""
    task = imports.import_for(current_user, task_id) or abort(404)
    status = imports.status_data(task, url_for("imports.task_page", task_id=task.id))
    for key in ("created_at", "finished_at"):
        status[key] = status[key].isoformat() if status[key] else None
    return status, 200, {"Cache-Control": "no-store"}
