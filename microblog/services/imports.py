"""Imports of follows, blocks, mutes and bookmarks from Mastodon's CSV files, run by a resumable job.

Starting an import reads the file (``services.import_files``), stores its lines as ``ImportRow``s
and a ``Task`` whose name says the kind and the mode, and starts the job after the commit. The job
takes the pending rows a batch at a time, resolves each (``services.import_targets``), applies it
through the usual services and records its outcome in the same commit as the change, so a job killed
mid-way leaves each row either applied and recorded or untouched. A periodic sweep hands a running
import whose heartbeat stopped to a new job, which continues from the pending rows. In ``overwrite``
mode, once every row is done, what the person had that the file does not name is removed.
When it ends, the owner gets an email with the counts and a link to the skipped lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import jobs, mail
from microblog.exceptions import ConflictError, TooLarge, ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.models import (
    TASK_DONE,
    TASK_FAILED,
    TASK_QUEUED,
    TASK_RUNNING,
    ImportRow,
    ImportRowState,
    Task,
    User,
)
from microblog.services import audit, import_files, import_targets, roles, tasks
from microblog.services.import_files import KINDS
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

TASK_PREFIX = "import_"
MERGE, OVERWRITE = "merge", "overwrite"
MODES = (MERGE, OVERWRITE)
# The progress page and the API list at most this many skipped lines (the counts cover them all).
SKIPPED_SHOWN = 200


class ImportInProgress(ConflictError):
    """The user already has an import under way; ``task_id`` is that import."""

    def __init__(self, message: str, task_id: str) -> None:
        super().__init__(message)
        self.task_id = task_id


@dataclass(frozen=True)
class Counts:
    total: int
    imported: int
    skipped: int

    @property
    def pending(self) -> int:
        return self.total - self.imported - self.skipped


def reason_text(code: str | None) -> str:
    """A skipped line's reason, for people."""
    texts = {
        import_targets.INVALID: _("Not an account address or a link to a post."),
        import_targets.REMOTE: _("Its server could not be reached, or does not know it."),
        import_targets.NOT_FOUND: _("There is no such account here."),
        import_targets.SELF: _("That is your own account."),
        import_targets.BLOCKED_BY_YOU: _("You have blocked this account."),
        import_targets.BLOCKED_YOU: _("This account has blocked you."),
        import_targets.NOT_THIS_SITE: _("Not a link to a post of this site."),
        import_targets.POST_NOT_FOUND: _("That post does not exist, or you may not see it."),
        import_targets.REFUSED: _("This could not be done."),
    }
    return texts.get(code or "", _("This could not be done."))


# -- starting an import --------------------------------------------------------------------------
def start_import(user: User, kind: str, mode: str, data: bytes, filename: str | None) -> Task:
    """Store the lines of ``data`` (a CSV file of ``kind``) as an import and start its job after the commit.

    :raises ValidationError: an unknown kind or mode, or a file that cannot be read (``field`` says which).
    :raises TooLarge: a file over IMPORT_MAX_BYTES.
    :raises ImportInProgress: the user already has an import queued or running.
    :raises AccountSuspended: the account is suspended.
    """
    roles.check_not_suspended(user)
    if mode not in MODES:
        raise ValidationError(_("Choose whether to merge or overwrite."), field="mode")
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        raise TooLarge(_("The file is larger than %(size)s KB.",
                         size=current_app.config["IMPORT_MAX_BYTES"] // 1024), field="file")
    parsed = import_files.parse_file(kind, data, filename, current_app.config["IMPORT_MAX_ROWS"])
    # Lock the user's row (PostgreSQL) so two submissions at once cannot both start an import.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    running = _live_import(user.id)
    if running is not None:
        abandoned = tasks.is_abandoned(running)
        db.session.rollback()
        if abandoned:  # its worker died and no sweep has run since (no worker, or none of ours yet)
            _resume(running.id)
        raise ImportInProgress(_("Your previous import is still under way."), task_id=running.id)
    task = tasks.new_task(user, f"{TASK_PREFIX}{kind}_{mode}",
                          f"Import of {user.username}'s {kind} ({mode}), {len(parsed.values)} lines")
    db.session.flush()
    audit.record(user, audit.ACCOUNT_IMPORT, user, details=f"{kind}, {mode}, {len(parsed.values)} lines")
    db.session.execute(sa.insert(ImportRow), [
        {"task_id": task.id, "row_number": number, "value": value, "state": ImportRowState.PENDING}
        for number, value in enumerate(parsed.values, start=1)])
    db.session.commit()
    jobs.enqueue(run_import, task.id, job_id=task.id)
    return task


def _live_import(user_id: int) -> Task | None:
    return db.session.scalars(
        sa.select(Task).where(Task.user_id == user_id, Task.name.startswith(TASK_PREFIX, autoescape=True),
                              Task.status.in_((TASK_QUEUED, TASK_RUNNING))).limit(1)
    ).first()


# -- reading an import ------------------------------------------------------------------------------
def kind_and_mode(task: Task) -> tuple[str, str] | None:
    """(kind, mode) of an import task; None for any other task."""
    if not task.name.startswith(TASK_PREFIX):
        return None
    kind, _sep, mode = task.name.removeprefix(TASK_PREFIX).rpartition("_")
    return (kind, mode) if kind in KINDS and mode in MODES else None


def import_for(user: User, task_id: str) -> Task | None:
    """The import ``task_id`` if ``user`` started it; None otherwise (as if it did not exist)."""
    task = tasks.owned_task(user, task_id)
    return task if task is not None and kind_and_mode(task) is not None else None


def counts(task: Task) -> Counts:
    """How many lines the import has, and how many were imported and skipped so far."""
    found = dict(db.session.execute(
        sa.select(ImportRow.state, sa.func.count()).where(ImportRow.task_id == task.id)
        .group_by(ImportRow.state)
    ).tuples().all())
    return Counts(total=sum(found.values()), imported=found.get(ImportRowState.DONE, 0),
                  skipped=found.get(ImportRowState.SKIPPED, 0))


def skipped_rows(task: Task, limit: int = SKIPPED_SHOWN) -> list[dict[str, Any]]:
    """The first ``limit`` skipped lines: their number, what they said, and why they were skipped."""
    rows = db.session.scalars(
        sa.select(ImportRow).where(ImportRow.task_id == task.id, ImportRow.state == ImportRowState.SKIPPED)
        .order_by(ImportRow.row_number).limit(limit)
    )
    return [{"row": row.row_number, "value": row.value, "reason": row.reason,
             "message": reason_text(row.reason)} for row in rows]


def status_data(task: Task, details_url: str | None = None) -> dict[str, Any]:
    """The import's state for the progress page's polling and the API. Unlike an export, a running
    import whose worker died stays running: it resumes (:func:`resume_stalled_imports`)."""
    kind, mode = kind_and_mode(task) or ("", "")
    found = counts(task)
    data: dict[str, Any] = {
        "id": task.id, "kind": kind, "mode": mode, "status": task.status, "progress": task.progress,
        "counts": {"total": found.total, "imported": found.imported, "skipped": found.skipped,
                   "pending": found.pending},
        "created_at": task.created_at, "finished_at": task.finished_at,
        "message": _status_message(task, found),
        # The progress page's button (static/tasks.js shows it when set): reload to see the skipped lines.
        "download_url": details_url if task.status == TASK_DONE else None,
    }
    return data


def _status_message(task: Task, found: Counts) -> str:
    if task.status == TASK_QUEUED:
        return _("Waiting to start…")
    if task.status == TASK_RUNNING:
        if tasks.is_abandoned(task):
            return _("The import was interrupted; it will resume where it stopped.")
        return _("Importing: %(done)d of %(total)d lines", done=found.imported + found.skipped,
                 total=found.total)
    if task.status == TASK_FAILED:
        return _("The import failed. Please try again later.")
    return _("Done: %(imported)d imported, %(skipped)d skipped.", imported=found.imported,
             skipped=found.skipped)


# -- the job -----------------------------------------------------------------------------------------
@jobs.task
def run_import(task_id: str) -> str:
    """Apply the import's pending rows a batch at a time, then (overwrite) remove what the file does not
    name, then email the owner. Returns the status."""
    task = tasks.claim(task_id)
    if task is None:
        return "skipped"  # already run or running elsewhere (a retried or duplicated job)
    found = kind_and_mode(task)
    try:
        if found is None:
            raise ValueError(f"not an import task: {task.name}")
        kind, mode = found
        _apply_rows(task, kind)
        if mode == OVERWRITE:
            _remove_others(task, kind)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the task for the user
        log.exception("import %s failed", task_id)
        tasks.record_failure(task_id, exc)
        return TASK_FAILED
    result = counts(task)
    tasks.mark_done(task, f"{result.imported} imported, {result.skipped} skipped")
    try:
        _email_summary(task, result)
    except Exception:  # noqa: BLE001 - the summary is on the site even if the mail is not
        log.exception("could not queue the email for import %s", task_id)
        db.session.rollback()
    return TASK_DONE


def _apply_rows(task: Task, kind: str) -> None:
    user = task.user
    batch_size = max(1, current_app.config["IMPORT_BATCH_SIZE"])
    total = db.session.scalar(sa.select(sa.func.count()).where(ImportRow.task_id == task.id)) or 0
    query = (sa.select(ImportRow)
             .where(ImportRow.task_id == task.id, ImportRow.state == ImportRowState.PENDING)
             .order_by(ImportRow.row_number).limit(batch_size))
    while True:
        batch = db.session.scalars(query).all()
        if not batch:
            return
        for row in batch:
            _apply_row(user, kind, row)
        db.session.commit()
        handled = db.session.scalar(sa.select(sa.func.count()).where(
            ImportRow.task_id == task.id, ImportRow.state != ImportRowState.PENDING)) or 0
        tasks.report_progress(task, handled, total)


def _apply_row(user: User, kind: str, row: ImportRow) -> None:
    """Resolve and apply one row. Its outcome is set before the service runs, so the service's commit
    records the change and the outcome together: a kill leaves both or neither."""
    row_id = row.id
    try:
        target_id = import_targets.resolve(user, kind, row.value)
        row.state, row.reason, row.target_id = ImportRowState.DONE, None, target_id
        import_targets.apply(user, kind, target_id)
    except import_targets.Skip as exc:
        fresh = db.session.get(ImportRow, row_id)  # after a rollback in a refused service call
        assert fresh is not None
        fresh.state, fresh.reason, fresh.target_id = ImportRowState.SKIPPED, exc.reason, None
        return
    fresh = db.session.get(ImportRow, row_id)
    assert fresh is not None
    if fresh.state != ImportRowState.DONE:  # a service rolled back a race it lost; the result stands
        fresh.state, fresh.reason, fresh.target_id = ImportRowState.DONE, None, target_id


def _remove_others(task: Task, kind: str) -> None:
    """Overwrite: undo what ``task.user`` has of ``kind`` that no imported row named. Safe to repeat."""
    user = task.user
    kept = sa.select(ImportRow.target_id).where(
        ImportRow.task_id == task.id, ImportRow.state == ImportRowState.DONE,
        ImportRow.target_id.is_not(None))
    current = import_targets.current_targets(user, kind).subquery()
    column = next(iter(current.columns))
    doomed = db.session.scalars(sa.select(column).where(column.not_in(kept))).all()
    for number, target_id in enumerate(doomed, start=1):
        import_targets.remove(user, kind, target_id)
        if number % 50 == 0:
            tasks.report_progress(task, 99, 100)  # the heartbeat


def _email_summary(task: Task, result: Counts) -> None:
    """Mail the owner the counts and a link to the progress page, which lists the skipped lines."""
    user = task.user
    kind, mode = kind_and_mode(task) or ("", "")
    message = mail.queue_email(
        user.email,
        _l("Your Microblog import is done"),
        "import_done",
        locale=user.locale,
        user=user,
        kind=kind,
        imported=result.imported,
        skipped=result.skipped,
        details_url=external_url("imports.task_page", task_id=task.id),
    )
    db.session.commit()
    mail.dispatch(message)


# -- housekeeping --------------------------------------------------------------------------------
@jobs.periodic
def resume_stalled_imports() -> int:
    """Hand every stalled import (see :func:`_stalled`) to a new job, which continues from the rows
    still pending; returns how many."""
    task_ids = db.session.scalars(sa.select(Task.id).where(_stalled())).all()
    return sum(1 for task_id in task_ids if _resume(task_id))


def _stalled() -> sa.ColumnElement[bool]:
    """Imports that will not finish unless a new job takes them: running with no heartbeat for
    TASK_HEARTBEAT_TIMEOUT (their worker died), or queued for longer than STALE_AFTER (their job was lost)."""
    now = utcnow()
    # The last sign of life: the job's heartbeat, or when the task was created or last resumed.
    alive_at = sa.func.coalesce(Task.heartbeat_at, Task.created_at)
    return sa.and_(
        Task.name.startswith(TASK_PREFIX, autoescape=True),
        sa.or_(sa.and_(Task.status == TASK_RUNNING, alive_at <= now - tasks.heartbeat_timeout()),
               sa.and_(Task.status == TASK_QUEUED, alive_at <= now - tasks.STALE_AFTER)),
    )


def _resume(task_id: str) -> bool:
    """Queue a new job for a stalled import; False when it is not stalled (any more)."""
    # One conditional UPDATE: of two workers sweeping at once, one starts the job. The heartbeat it
    # writes makes the next sweep wait STALE_AFTER before giving up on this job in turn.
    result: sa.CursorResult = db.session.execute(  # type: ignore[assignment]
        sa.update(Task).where(Task.id == task_id, _stalled())
        .values(status=TASK_QUEUED, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        return False
    log.warning("resuming import %s: its job stopped or was lost", task_id)
    jobs.enqueue(run_import, task_id)
    return True
