"""Writing rows that concurrent requests may write at the same instant."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from microblog.extensions import db


def insert_unless_present(table: sa.Table, **values: object) -> bool:
    """Insert a row unless its key is already taken; True when this call added it.

    ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite 3.35+ and PostgreSQL): when two requests add the same
    row at once (a double click, two tabs, a retry), the unique key decides, the one that comes second
    learns it from the row count, and no request fails on a duplicate-key error. On PostgreSQL the
    second waits for the first to commit or roll back before deciding.
    """
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    key = next(iter(table.primary_key.columns))
    # RETURNING, not the row count: drivers do not report one for every INSERT (psycopg via SQLAlchemy
    # gives -1), while a returned row is proof of the insert on both databases.
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return db.session.execute(statement).first() is not None
