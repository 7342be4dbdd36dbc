"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from microblog.extensions import db
from microblog.fulltext import schema_filter


def schema_differences(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        # What exists on PostgreSQL only (the stored search vectors) is skipped elsewhere, as
        # migrations/env.py does for autogenerate.
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": schema_filter(conn.dialect.name)})
        with warnings.catch_warnings():
            # Expression indexes (lower(username)) cannot be reflected on SQLite; checked below.
            warnings.simplefilter("ignore")
            return compare_metadata(context, db.metadata)


@pytest.mark.slow
def test_upgrade_builds_the_models_schema(make_app):
    app = make_app(create_tables=False)
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {"user", "post", "followers", "alembic_version"} <= tables
    assert schema_differences(app) == []


def test_migrated_schema_has_the_case_blind_username_index(make_app):
    app = make_app(create_tables=False)
    with app.app_context():
        upgrade()
        db.session.execute(sa.text(
            "INSERT INTO \"user\" (username, email, password_hash, role, created_at, last_seen) "
            "VALUES ('Ann', 'a@example.com', 'x', 'user', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))
        db.session.commit()
        try:
            db.session.execute(sa.text(
                "INSERT INTO \"user\" (username, email, password_hash, role, created_at, last_seen) "
                "VALUES ('ANN', 'b@example.com', 'x', 'user', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ))
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
        else:
            raise AssertionError("a username differing only in case was accepted")


def test_downgrade_to_base_and_back(make_app):
    app = make_app(create_tables=False)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
    assert schema_differences(app) == []


def test_the_theme_column_keeps_every_row_and_refuses_unknown_themes(make_app):
    """0015 adds user.theme in place: copying "user" (a batch migration) would drop the table, and with
    SQLite's foreign keys on, every post of every account with it (ON DELETE CASCADE)."""
    app = make_app(create_tables=False)
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO \"user\" (id, username, email, password_hash, created_at, last_seen) "
                "VALUES (1, 'alice', 'a@example.com', 'x', '2026-01-01', '2026-01-01')"))
            conn.execute(sa.text(
                "INSERT INTO post (id, body, user_id, timestamp) VALUES (1, 'hi', 1, '2026-01-01')"))
        upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM post")).scalar() == 1
            assert conn.execute(sa.text("SELECT theme FROM \"user\"")).scalar() == "auto"
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE \"user\" SET theme = 'pink'"))
        downgrade(revision="0014")
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM post")).scalar() == 1


def test_upgrading_sqlite_keeps_what_refers_to_a_rebuilt_table(make_app):
    """0014 rebuilds "post" on SQLite (a batch copy, for its CHECK): with foreign keys on, dropping the
    old table would delete every like and reply link with it (ON DELETE CASCADE / SET NULL). The
    migrations run with SQLite's foreign keys off, then check them, and nothing is lost."""
    app = make_app(create_tables=False)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite rebuilds tables to alter them; PostgreSQL alters in place")
        upgrade(revision="0013")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO \"user\" (id, username, email, password_hash, created_at, last_seen) "
                "VALUES (1, 'alice', 'a@example.com', 'x', '2026-01-01', '2026-01-01')"))
            conn.execute(sa.text("INSERT INTO post (id, body, user_id, timestamp) "
                                 "VALUES (1, 'hi', 1, '2026-01-01')"))
            conn.execute(sa.text("INSERT INTO post (id, body, user_id, timestamp, in_reply_to_id) "
                                 "VALUES (2, 'hello', 1, '2026-01-02', 1)"))
            conn.execute(sa.text("INSERT INTO \"like\" (id, user_id, post_id, created_at) "
                                 "VALUES (1, 1, 1, '2026-01-02')"))
        upgrade()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM post")).scalar() == 2
            assert conn.execute(sa.text("SELECT in_reply_to_id FROM post WHERE id = 2")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM \"like\"")).scalar() == 1
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1  # back on for the app
