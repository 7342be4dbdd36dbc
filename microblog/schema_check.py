"""The database schema must be at the migrations' head before the site serves (the release step runs them).

A web or worker process started against a database the release step has not migrated would fail
request after request on missing columns; it refuses to start instead, naming both revisions.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

log = logging.getLogger(__name__)


class SchemaOutOfDate(RuntimeError):
    """The database's revision is not the migrations' head: run `flask db upgrade` first."""


def migrations_head(app: Flask) -> set[str]:
    """The head revision(s) of the migrations shipped with this code."""
    directory = app.extensions["migrate"].directory
    return set(ScriptDirectory(str(Path(directory))).get_heads())


def database_revision(app: Flask) -> set[str]:
    """The revision(s) recorded in the database's ``alembic_version`` table (empty: never migrated)."""
    from microblog.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def require_current_schema(app: Flask) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at the migrations' head.

    A database that cannot be reached is not this check's business: the site answers 503 until it
    is back (errors/handlers.py), so the check logs a warning and lets the process start.
    """
    try:
        current = database_revision(app)
    except sa.exc.OperationalError as exc:
        log.warning("schema check skipped: the database is not reachable (%s)", exc.orig or exc)
        return
    head = migrations_head(app)
    if current != head:
        raise SchemaOutOfDate(
            f"The database schema is at revision {_names(current)} but this code needs revision "
            f"{_names(head)}: run `flask db upgrade` (the Procfile's release step) before starting the app."
        )


def _names(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) if revisions else "none (never migrated)"
