"""The life of a background ``Task``: queued, claimed by one job, beating while it runs, then done or failed.

Both kinds of export (``services.exports`` for a user's posts, ``services.admin_exports`` for the whole
site) follow these rules; they add only what their task produces. A task whose job was lost (never
started) or whose worker died (no heartbeat) counts as failed at once, and the periodic sweep records it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from microblog.extensions import db
from microblog.models import TASK_DONE, TASK_FAILED, TASK_QUEUED, TASK_RUNNING, Task, User
from microblog.timeutil import utcnow

# A task still queued after this long will not start (its queue lost it).
STALE_AFTER = timedelta(hours=1)
ABANDONED = "abandoned: no progress within the time limit"
WORKER_DIED = "the worker running it stopped (no heartbeat)"
# Task ids are UUIDs (str(uuid4())): anything else names no task, and never reaches the database
# (PostgreSQL refuses a NUL byte in a parameter with an error, not an empty result).
_TASK_ID_RE = re.compile(r"\A[0-9a-f-]{1,36}\Z")


def new_task(user: User, name: str, description: str) -> Task:
    """A queued task for ``user``, added to the session; the caller commits, then starts its job."""
    task = Task(id=str(uuid.uuid4()), name=name, description=description, user_id=user.id,
                status=TASK_QUEUED, progress=0)
    db.session.add(task)
    return task


def is_task_id(task_id: str) -> bool:
    return bool(task_id) and _TASK_ID_RE.match(task_id) is not None


def owned_task(user: User, task_id: str) -> Task | None:
    """The task ``task_id`` if ``user`` started it; None otherwise (as if it did not exist)."""
    if not is_task_id(task_id):
        return None
    task = db.session.get(Task, task_id)
    return task if task is not None and task.user_id == user.id else None


# -- while the job runs ------------------------------------------------------------------------
def claim(task_id: str) -> Task | None:
    """Move the task from queued to running and return it, unless someone else did (None then):
    at most one job runs a task, however often it was queued."""
    # An UPDATE answers with a CursorResult, which counts the rows it changed.
    result: sa.CursorResult = db.session.execute(  # type: ignore[assignment]
        sa.update(Task)
        .where(Task.id == task_id, Task.status == TASK_QUEUED)
        .values(status=TASK_RUNNING, progress=0, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    task = db.session.get(Task, task_id)
    assert task is not None
    return task


def report_progress(task: Task, written: int, total: int) -> None:
    """Record progress, and the heartbeat that shows the job is alive (at least 4 times per timeout)."""
    # 100 is kept for "done"; a row added while the job runs must not push it past 99.
    progress = min(99, written * 100 // total) if total else 99
    now = utcnow()
    beat_due = task.heartbeat_at is None or now - task.heartbeat_at >= heartbeat_timeout() / 4
    if progress != task.progress or beat_due:
        task.progress = progress
        task.heartbeat_at = now
        db.session.commit()


def mark_done(task: Task, result: str) -> None:
    """Record success; ``result`` names what the job produced (a file in the exports folder)."""
    task.status, task.progress, task.result, task.finished_at = TASK_DONE, 100, result, utcnow()
    db.session.commit()


def mark_failed(task: Task, error: str) -> None:
    task.status = TASK_FAILED
    task.error = error[:255]
    task.finished_at = utcnow()
    db.session.commit()


def record_failure(task_id: str, exc: Exception) -> None:
    """After the job raised ``exc``: drop its unfinished work and record the error on the task."""
    db.session.rollback()
    task = db.session.get(Task, task_id)
    if task is not None:
        mark_failed(task, f"{type(exc).__name__}: {exc}")


# -- tasks that will never finish --------------------------------------------------------------
def heartbeat_timeout() -> timedelta:
    """How long a running task may stay silent before it counts as dead (TASK_HEARTBEAT_TIMEOUT)."""
    return timedelta(seconds=current_app.config["TASK_HEARTBEAT_TIMEOUT"])


def is_abandoned(task: Task) -> bool:
    """True for a task that will never finish: queued for longer than STALE_AFTER, or running with
    no heartbeat for TASK_HEARTBEAT_TIMEOUT (its worker was killed or crashed mid-job)."""
    now = utcnow()
    if task.status == TASK_QUEUED:
        return task.created_at <= now - STALE_AFTER
    if task.status == TASK_RUNNING:
        return (task.heartbeat_at or task.created_at) <= now - heartbeat_timeout()
    return False


def effective_status(task: Task) -> str:
    """The status to show: an abandoned task is failed even before a sweep has recorded it."""
    return TASK_FAILED if is_abandoned(task) else task.status


def give_up_if_abandoned(task: Task) -> bool:
    """Mark ``task`` failed if :func:`is_abandoned` says so (committed with the caller's transaction)."""
    if not is_abandoned(task):
        return False
    task.status, task.finished_at = TASK_FAILED, utcnow()
    task.error = WORKER_DIED if task.heartbeat_at is not None else ABANDONED
    return True


def fail_stale_tasks(prefixes: Iterable[str]) -> None:
    """Record as failed the tasks :func:`is_abandoned` describes (the same rule, in SQL), among the
    tasks whose name starts with one of ``prefixes``."""
    now = utcnow()
    ours = sa.or_(*(Task.name.startswith(prefix, autoescape=True) for prefix in prefixes))
    for condition, error in (
        (sa.and_(Task.status == TASK_QUEUED, Task.created_at <= now - STALE_AFTER), ABANDONED),
        (sa.and_(Task.status == TASK_RUNNING,
                 sa.func.coalesce(Task.heartbeat_at, Task.created_at) <= now - heartbeat_timeout()),
         WORKER_DIED),
    ):
        db.session.execute(
            sa.update(Task).where(ours, condition)
            .values(status=TASK_FAILED, error=error, finished_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


# -- after the job ---------------------------------------------------------------------------------
def expires_at(task: Task) -> datetime | None:
    """When a finished task's result stops being available (EXPORT_RETENTION_HOURS after it finished)."""
    if task.finished_at is None:
        return None
    return task.finished_at + timedelta(hours=current_app.config["EXPORT_RETENTION_HOURS"])
