"""Admin exports: every account or every post as CSV, written by a background job with progress.

They share the machinery of the users' own exports: the ``Task`` lifecycle of ``services.tasks`` for
the progress bar, and the files of ``services.export_writers`` (in EXPORTS_DIR, swept after
EXPORT_RETENTION_HOURS by ``services.exports``) with the same CSV safety (``csv_safe`` on every text
cell, a UTF-8 byte order mark for spreadsheets). Only the administrator who started an export can
download it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog import jobs
from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.models import TASK_DONE, TASK_FAILED, TASK_QUEUED, TASK_RUNNING, Permission, Post, Task, User
from microblog.services import export_writers, exports, roles, tasks

log = logging.getLogger(__name__)

KINDS = ("users", "posts")
TASK_PREFIX = exports.ADMIN_TASK_PREFIX
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "username", "email", "role", "created_at", "last_seen", "confirmed_at", "suspended_at",
              "post_count", "follower_count", "following_count"),
    "posts": ("id", "user_id", "username", "created_at", "language", "hidden_at", "body"),
}


def start(admin: User, kind: str) -> Task:
    """Create the export task and start its job after the commit.

    :raises PermissionDenied: ``admin`` may not export the site's data.
    :raises ValidationError: an unknown kind.
    """
    roles.require(admin, Permission.EXPORT_DATA)
    if kind not in KINDS:
        raise ValidationError(_("Exports are available for users and posts."))
    task = tasks.new_task(admin, TASK_PREFIX + kind, f"Export of all {kind} as CSV")
    db.session.commit()
    jobs.enqueue(export_table, task.id, job_id=task.id)
    return task


def kind_of(task: Task) -> str | None:
    kind = task.name.removeprefix(TASK_PREFIX) if task.name.startswith(TASK_PREFIX) else None
    return kind if kind in KINDS else None


def task_for(admin: User, task_id: str) -> Task | None:
    """The admin export ``task_id`` if ``admin`` started it (and still may export); None otherwise."""
    if not admin.can(Permission.EXPORT_DATA):
        return None
    task = tasks.owned_task(admin, task_id)
    return task if task is not None and kind_of(task) else None


def file_for(task: Task) -> Path | None:
    """The finished file, while it has not expired."""
    return export_writers.finished_file(task)


def download_name(task: Task) -> str:
    stamp = (task.finished_at or task.created_at).strftime("%Y%m%d")
    return f"microblog-{kind_of(task)}-{stamp}.csv"


def status(task: Task, download_url: str | None = None) -> dict[str, Any]:
    """The task's state for the progress page's polling (the shape ``tasks.js`` reads)."""
    available = file_for(task) is not None
    state = tasks.effective_status(task)
    if state == TASK_QUEUED:
        message = _("Waiting to start…")
    elif state == TASK_RUNNING:
        message = _("Exporting: %(progress)d%%", progress=task.progress)
    elif state == TASK_FAILED:
        message = _("The export failed. Please try again later.")
    elif available:
        message = _("Your export is ready.")
    else:
        message = _("This export has expired. Please start a new one.")
    return {"id": task.id, "status": state, "progress": task.progress, "format": "csv",
            "download_url": download_url if available else None, "message": message}


@jobs.task
def export_table(task_id: str) -> str:
    """Job: write every row of the task's kind to a CSV file, reporting progress. Returns the status."""
    task = tasks.claim(task_id)
    if task is None:
        return "skipped"
    try:
        kind = kind_of(task)
        if kind is None:
            raise ValueError(f"not an admin export task: {task.name}")
        path = _write(task, kind)
    except Exception as exc:  # noqa: BLE001 - recorded on the task for the admin
        log.exception("admin export %s failed", task_id)
        tasks.record_failure(task_id, exc)
        return TASK_FAILED
    tasks.mark_done(task, path.name)
    return TASK_DONE


def _write(task: Task, kind: str) -> Path:
    model = User if kind == "users" else Post
    total = db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
    written = 0
    with export_writers.new_file(kind, "csv") as (fh, final):
        writer = export_writers.CsvWriter(fh, COLUMNS[kind])
        for batch in _batches(kind):
            writer.write(batch)
            written += len(batch)
            tasks.report_progress(task, written, total)
    return final


def _batches(kind: str) -> Iterator[Sequence[sa.Row]]:
    """All rows by id, ``export_writers.batch_size()`` at a time (keyset on the primary key)."""
    if kind == "users":
        query = sa.select(*(getattr(User, name) for name in COLUMNS["users"])).order_by(User.id)
        key = User.id
    else:
        columns = (Post.id, Post.user_id, User.username, Post.timestamp, Post.language, Post.hidden_at,
                   Post.body)
        query = sa.select(*columns).join(User, User.id == Post.user_id).order_by(Post.id)
        key = Post.id
    last_id = 0
    while True:
        size = export_writers.batch_size()
        rows = db.session.execute(query.where(key > last_id).limit(size)).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last_id = rows[-1][0]
