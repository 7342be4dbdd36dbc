"""Counting the SQL statements a request runs (the pages' budget is a small constant)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from microblog.extensions import db


@contextmanager
def counting(app) -> Iterator[list[str]]:
    """Every statement sent to ``app``'s engine inside the block, in order."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
