"""Fixtures for the deployment tests: the programs they drive, and PostgreSQL databases of their own.

A missing program skips its test with the reason; CI sets REQUIRE_DEPLOY=1 (and REQUIRE_POSTGRES,
REQUIRE_REDIS), which turns those skips into failures.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator

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


@pytest.fixture
def new_postgres_database(postgres_admin_engine) -> Iterator[Callable[[], str]]:
    """Make empty PostgreSQL databases (``postgresql://.../deploy_<random>``), dropped afterwards.

    A whole database, not a schema: pg_dump, the Procfile's release step and the site see exactly
    what a real deployment's would.
    """
    require_or_skip(postgres_admin_engine is not None, "PostgreSQL (TEST_DATABASE_URL)", "REQUIRE_POSTGRES")
    made: list[str] = []

    def make() -> str:
        name = f"deploy_{uuid.uuid4().hex[:12]}"
        with postgres_admin_engine.connect() as conn:
            # template0 is never connected to, so databases made at once by parallel tests do not collide.
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\''))
        made.append(name)
        url = postgres_admin_engine.url.set(drivername="postgresql", database=name)
        return url.render_as_string(hide_password=False)

    yield make
    with postgres_admin_engine.connect() as conn:
        for name in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
