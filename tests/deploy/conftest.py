"""Fixtures for the deployment tests: the programs they drive, and PostgreSQL databases of their own.

A missing program skips its test with the reason; CI sets REQUIRE_DEPLOY=1 (and REQUIRE_POSTGRES,
REQUIRE_REDIS), which turns those skips into failures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.servers import BIN
from tests.conftest import require_or_skip


def program(name: str, package: str) -> str:
    """The path of ``name`` (the venv's bin first, then PATH); skips, or fails under REQUIRE_DEPLOY=1."""
    found = shutil.which(name, path=f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin") or shutil.which(name)
    require_or_skip(found is not None, f"{name} ({package})", "REQUIRE_DEPLOY")
    assert found is not None
    return found


def migrate(url: str, instance: Path) -> None:
    """`flask db upgrade` on ``url``, in this process (for tests about something else than migrating)."""
    from config import database_url
    from microblog import create_app
    from microblog.extensions import db
    from tests.conftest import TestConfig

    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": database_url(url, instance),
                                  "INSTANCE_DIR": str(instance)})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def new_postgres_database(postgres_admin_engine) -> Iterator[Callable[[], str]]:
    """Make empty PostgreSQL databases (``postgresql://.../deploy_<worker>_<n>``), emptied afterwards.

    A whole database, not a schema: pg_dump, the Procfile's release step and the site see exactly
    what a real deployment's would. Each test process keeps its few databases and empties them
    (every schema dropped) before and after use, instead of dropping them: DROP DATABASE waits for
    a checkpoint, seconds on a busy machine. (So two runs of this lane at once must not share a
    PostgreSQL server.)
    """
    require_or_skip(postgres_admin_engine is not None, "PostgreSQL (TEST_DATABASE_URL)", "REQUIRE_POSTGRES")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    made: list[sa.URL] = []

    def make() -> str:
        name = f"deploy_{worker}_{len(made)}"
        with postgres_admin_engine.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                # template0 is never connected to, so databases made at once by parallel tests do not collide.
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\''))
        url = postgres_admin_engine.url.set(drivername="postgresql", database=name)
        made.append(url)
        empty(url)
        return url.render_as_string(hide_password=False)

    yield make
    for url in made:
        empty(url)


def empty(url: sa.URL) -> None:
    """Drop every schema of the database at ``url`` (ending its other sessions first) and make a new
    ``public``: what CREATE DATABASE gives, without its cost."""
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            schemas = conn.scalars(sa.text("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                                           "AND nspname <> 'information_schema'")).all()
            for schema in schemas:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
