"""Data export rules: users download their posts as CSV or JSON, or their whole account as a zip
archive (``services.archive``), written by a background job.

Each post carries its images (absolute URLs of their display files, alt texts, sizes), read once
per batch of posts; the JSON also gives the profile picture and header. The files themselves are
not copied into these exports: the links lead to them (the archive holds the files).

The job streams the posts in batches to a file in EXPORTS_DIR, reports its progress on a ``Task``
row, and mails the file when it is done. Files are downloadable by their owner only, for
EXPORT_RETENTION_HOURS, after which a periodic sweep deletes them. The task's lifecycle follows
``services.tasks``; the file and its writers come from ``services.export_writers``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_datetime
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import jobs, mail
from microblog.exceptions import ConflictError, ValidationError
from microblog.extensions import db
from microblog.external_urls import external_media_url, external_url
from microblog.i18n import valid_timezone
from microblog.models import TASK_DONE, TASK_FAILED, TASK_QUEUED, TASK_RUNNING, Media, Post, Task, User
from microblog.services import archive, export_writers, media, tasks
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

# Format -> content type. Browsers get ``text/csv; charset=utf-8`` (send_file adds the charset).
# "archive": everything in the account, as a zip (services.archive).
ARCHIVE = "archive"
FORMATS: dict[str, str] = {ARCHIVE: "application/zip", "csv": "text/csv", "json": "application/json"}
# The file name's extension of each format.
EXTENSIONS: dict[str, str] = {ARCHIVE: "zip", "csv": "csv", "json": "json"}
TASK_PREFIX = "export_"
# Exports of the whole site (services.admin_exports) share the folder, the sweep and the task table.
ADMIN_TASK_PREFIX = "admin_export_"
# Larger files are not attached to the email (mail servers refuse big messages); the link remains.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# ``media``: the images' URLs, separated by spaces; ``media_descriptions``: their alt texts, in the same
# order, as a JSON list (alt text may hold spaces, commas and line breaks).
CSV_HEADER = ("id", "created_at", "body", "visibility", "content_warning", "in_reply_to_id", "edited_at",
              "media", "media_descriptions")


class ExportInProgress(ConflictError):
    """The user already has an export under way; ``task_id`` is that export."""

    def __init__(self, message: str, task_id: str) -> None:
        super().__init__(message)
        self.task_id = task_id


# -- starting and following an export ----------------------------------------------------------
def start_export(user: User, fmt: str) -> Task:
    """Create the export task for ``user`` in format ``fmt`` and start the job after the commit.

    :raises ValidationError: an unknown format.
    :raises ExportInProgress: the user already has an export queued or running.
    """
    if fmt not in FORMATS:
        raise ValidationError(_("Exports are available as a zip archive, CSV or JSON."))
    # Lock the user's row (PostgreSQL) so two clicks at once cannot both start an export.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    running = _running_export(user.id)
    if running is not None:
        db.session.rollback()
        raise ExportInProgress(_("Your previous export is still being prepared."), task_id=running.id)
    what = "account as a zip archive" if fmt == ARCHIVE else f"posts as {fmt.upper()}"
    task = tasks.new_task(user, TASK_PREFIX + fmt, f"Export of {user.username}'s {what}")
    db.session.commit()
    jobs.enqueue(export_posts, task.id, job_id=task.id)
    return task


def _running_export(user_id: int) -> Task | None:
    """The user's live export, if any; dead ones (see :func:`tasks.is_abandoned`) are marked failed."""
    live = db.session.scalars(
        sa.select(Task).where(
            Task.user_id == user_id,
            Task.name.startswith(TASK_PREFIX, autoescape=True),
            Task.status.in_((TASK_QUEUED, TASK_RUNNING)),
        )
    ).all()
    found = None
    for task in live:
        if not tasks.give_up_if_abandoned(task):
            found = task
    return found


def export_format(task: Task) -> str | None:
    """``archive``, ``csv`` or ``json`` for an export task, None for any other task."""
    fmt = task.name.removeprefix(TASK_PREFIX) if task.name.startswith(TASK_PREFIX) else None
    return fmt if fmt in FORMATS else None


def task_for(user: User, task_id: str) -> Task | None:
    """The task ``task_id`` if ``user`` started it; None otherwise (as if it did not exist)."""
    return tasks.owned_task(user, task_id)


def is_available(task: Task) -> bool:
    """True when the export is done, not expired, and its file is still there."""
    return _available_path(task) is not None


def task_status(task: Task, download_url: str | None = None) -> dict[str, Any]:
    """The task's state for the progress page's polling; ``download_url`` is included only when usable."""
    status: dict[str, Any] = {
        "id": task.id,
        "status": tasks.effective_status(task),
        "progress": task.progress,
        "format": export_format(task),
        "finished_at": export_writers.iso(task.finished_at) if task.finished_at else None,
        "expires_at": None,
        "download_url": None,
        "message": _status_message(task),
    }
    if status["status"] == TASK_DONE:
        expiry = tasks.expires_at(task)
        status["expires_at"] = export_writers.iso(expiry) if expiry else None
        if download_url and is_available(task):
            status["download_url"] = download_url
    return status


def _status_message(task: Task) -> str:
    status = tasks.effective_status(task)
    if status == TASK_QUEUED:
        return _("Waiting to start…")
    if status == TASK_RUNNING:
        if export_format(task) == ARCHIVE:
            return _("Exporting your account: %(progress)d%%", progress=task.progress)
        return _("Exporting your posts: %(progress)d%%", progress=task.progress)
    if status == TASK_FAILED:
        return _("The export failed. Please try again later.")
    if is_available(task):
        return _("Your export is ready.")
    return _("This export has expired. Please start a new one.")


def export_file_for(user: User, task_id: str) -> Path | None:
    """The path of the export file if ``user`` owns it and it has not expired; None otherwise."""
    task = task_for(user, task_id)
    return _available_path(task) if task is not None else None


def download_name(task: Task) -> str:
    """The file name the browser saves: ``microblog-<username>-posts-<date>.<ext>``, or
    ``microblog-<username>-archive-<date>.zip`` for the whole account."""
    stamp = (task.finished_at or task.created_at).strftime("%Y%m%d")
    fmt = export_format(task) or "json"
    what = "archive" if fmt == ARCHIVE else "posts"
    return f"microblog-{task.user.username}-{what}-{stamp}.{EXTENSIONS[fmt]}"


def content_type(task: Task) -> str:
    return FORMATS[export_format(task) or "json"]


def _available_path(task: Task) -> Path | None:
    return export_writers.finished_file(task) if export_format(task) is not None else None


# -- the job -------------------------------------------------------------------------------------
@jobs.task
def export_posts(task_id: str) -> str:
    """Write the task owner's posts (or, for an archive, their whole account) to a file, reporting
    progress, then email it. Returns the status."""
    task = tasks.claim(task_id)
    if task is None:
        return "skipped"  # already run or running elsewhere (a retried or duplicated job)
    fmt = export_format(task)
    try:
        if fmt is None:
            raise ValueError(f"not an export task: {task.name}")
        final, count = archive.write_archive(task) if fmt == ARCHIVE else _write_export(task, fmt)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the task for the user
        log.exception("export %s failed", task_id)
        tasks.record_failure(task_id, exc)
        return TASK_FAILED
    tasks.mark_done(task, final.name)
    try:
        _email_export(task, final, count)
    except Exception:  # noqa: BLE001 - the file is ready on the site even if the mail is not
        log.exception("could not queue the email for export %s", task_id)
        db.session.rollback()
    return TASK_DONE


def _write_export(task: Task, fmt: str) -> tuple[Path, int]:
    """Stream the posts into a new file; it appears under its final name only once complete."""
    username = task.user.username
    total = db.session.scalar(task.user.posts_count_select()) or 0
    written = 0
    with export_writers.new_file("posts", fmt) as (fh, final):
        writer: export_writers.CsvWriter | export_writers.JsonWriter
        if fmt == "csv":
            writer = export_writers.CsvWriter(fh, CSV_HEADER)
        else:
            writer = export_writers.JsonWriter(fh, username, utcnow(), profile=_profile(task.user))
        for batch in _post_batches(task.user):
            images = _images(batch)
            if isinstance(writer, export_writers.CsvWriter):
                writer.write([_csv_row(row, images.get(row.id, [])) for row in batch])
            else:
                writer.write(batch, images)
            written += len(batch)
            tasks.report_progress(task, written, total)
        writer.close()
    return final, written


def _profile(user: User) -> dict[str, str | None]:
    """The profile's pictures: their absolute URLs, None for the identicon or no header."""
    return {"avatar_url": external_media_url(user.avatar_key),
            "header_url": external_media_url(user.header_key)}


def _images(batch: Sequence[sa.Row]) -> dict[int, list[dict[str, Any]]]:
    """The processed images of a batch of posts, in one statement: URL, alt text, size and type of each
    (an upload still waiting for its job, or one that failed, has no file to link to)."""
    found = media.media_of_posts([row.id for row in batch if row.media_count])
    return {post_id: [_image(item) for item in items if item.file_key] for post_id, items in found.items()}


def _image(item: Media) -> dict[str, Any]:
    return {"url": external_media_url(item.file_key), "description": item.description,
            "width": item.width, "height": item.height, "mime": item.mime}


def _csv_row(row: sa.Row, images: list[dict[str, Any]]) -> tuple:
    urls = " ".join(image["url"] for image in images)
    descriptions = [image["description"] for image in images]
    return (row.id, row.timestamp, row.body, row.visibility, row.summary, row.in_reply_to_id, row.edited_at,
            urls, json.dumps(descriptions, ensure_ascii=False) if images else "")


def _post_batches(user: User) -> Iterator[Sequence[sa.Row]]:
    """The user's posts as the visibility rule shows them to their author (hidden ones too), oldest
    first, a batch at a time (keyset paging on the profile index)."""
    size = export_writers.batch_size()
    query = (
        sa.select(Post.id, Post.timestamp, Post.body, Post.visibility, Post.summary, Post.in_reply_to_id,
                  Post.edited_at, Post.media_count)
        .where(Post.user_id == user.id, Post.visible_to(user))
        .order_by(Post.timestamp, Post.id)
        .limit(size)
    )
    after: tuple[datetime, int] | None = None
    while True:
        page = query
        if after is not None:
            ts, last_id = after
            page = query.where(sa.or_(Post.timestamp > ts, sa.and_(Post.timestamp == ts, Post.id > last_id)))
        rows = db.session.execute(page).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        after = (rows[-1].timestamp, rows[-1].id)


def _email_export(task: Task, path: Path, count: int) -> None:
    """Mail the owner a link to the file, with the file attached when it is not too large."""
    user = task.user
    fmt = export_format(task) or ""
    attachment = None
    if path.stat().st_size <= ATTACHMENT_MAX_BYTES:
        attachment = (str(path), download_name(task), content_type(task))
    zone = ZoneInfo(valid_timezone(user.timezone) or "UTC")
    expiry = tasks.expires_at(task)
    assert expiry is not None
    message = mail.queue_email(
        user.email,
        _l("Your Microblog export is ready"),
        "export_ready",
        locale=user.locale,
        attachment=attachment,
        user=user,
        format=EXTENSIONS.get(fmt, fmt).upper(),
        count=count,
        attached=attachment is not None,
        download_url=external_url("exports.download", task_id=task.id),
        # Formatted here, in the reader's time zone: a job has no request to take it from.
        expires_at=format_datetime(
            expiry, "medium", tzinfo=zone, locale=user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        ),
        time_zone=zone.key,
    )
    db.session.commit()
    mail.dispatch(message)


# -- housekeeping --------------------------------------------------------------------------------
@jobs.periodic
def purge_expired_exports() -> int:
    """Delete export files older than EXPORT_RETENTION_HOURS and give up on dead tasks.

    Returns how many files were removed.
    """
    directory = export_writers.exports_dir()
    removed = 0
    if directory.is_dir():
        now = time.time()
        cutoff = now - current_app.config["EXPORT_RETENTION_HOURS"] * 3600
        partial_cutoff = now - tasks.STALE_AFTER.total_seconds()
        for path in directory.iterdir():
            if not export_writers.FILE_RE.match(path.name):
                continue
            try:
                mtime = path.stat().st_mtime
                # A .partial file is being written now unless its job died long ago.
                limit = partial_cutoff if path.name.endswith(".partial") else cutoff
                if mtime <= limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another worker swept it first
    tasks.fail_stale_tasks((TASK_PREFIX, ADMIN_TASK_PREFIX))
    return removed

