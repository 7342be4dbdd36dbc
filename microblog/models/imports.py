"""The rows of an import (follows, blocks, mutes, bookmarks from Mastodon's CSV files), one per line.

The import itself is a ``Task`` (its name says the kind and the mode); its rows wait here as
``pending`` until the job records each one's outcome, so a job that dies mid-way resumes from the
rows still pending and never applies one twice.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db

# The longest value kept from a line (an account address or a post's URL).
IMPORT_VALUE_MAX = 1000
IMPORT_REASON_MAX = 32


class ImportRowState(enum.StrEnum):
    """Where an import row is, stored as its value in ``import_row.state``."""

    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


class ImportRow(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """One line of an imported file: what it said, what it resolved to, and what became of it."""

    __tablename__ = "import_row"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "row_number"),
        # The job's scan for the next pending rows, and the counts by state.
        sa.Index("ix_import_row_task_state", "task_id", "state", "row_number"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"))
    # The line's number among the file's data lines, from 1.
    row_number: so.Mapped[int]
    value: so.Mapped[str] = so.mapped_column(sa.String(IMPORT_VALUE_MAX))
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default=ImportRowState.PENDING)
    # A short code (services.imports.REASONS) translated when shown: the job has no reader's language.
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(IMPORT_REASON_MAX))
    # The account or post the line named, once resolved (what an overwrite keeps).
    target_id: so.Mapped[int | None]

    def __repr__(self) -> str:
        return f"<ImportRow {self.task_id} #{self.row_number} {self.state}>"
