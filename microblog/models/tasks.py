"""Long background jobs a user started (exports), with their progress and result."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.users import User


class TaskStatus(enum.StrEnum):
    """Where a task is, stored as its value in ``task.status``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# The older names, kept for callers.
TASK_QUEUED = TaskStatus.QUEUED
TASK_RUNNING = TaskStatus.RUNNING
TASK_DONE = TaskStatus.DONE
TASK_FAILED = TaskStatus.FAILED


class Task(db.Model):
    """A long background job a user started, with its progress and result, for the progress bar."""

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    description: so.Mapped[str] = so.mapped_column(sa.String(255))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=TaskStatus.QUEUED)
    progress: so.Mapped[int] = so.mapped_column(default=0)
    # Where the result is (a file name in the exports folder), once done.
    result: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    error: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Written by the job while it runs: a running task whose heartbeat stops belonged to a worker
    # that died (services/exports.py marks it failed).
    heartbeat_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User] = so.relationship()

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name} {self.status} {self.progress}%>"
