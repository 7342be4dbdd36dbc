"""Shared fixtures: an app per test on a real database (SQLite file, or PostgreSQL when configured)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from config import Config, as_bool, database_url
from microblog import create_app, passwords
from microblog.extensions import db
from tests import speedups

# The fuzz tests' case counter and the run's closing count (see tests/fuzzcount.py).
from tests.fuzzcount import (  # noqa: F401
    fuzz_cases,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

# A real S3-compatible server (moto's, over HTTP on loopback) for the media tests: fixtures s3_endpoint
# and s3_storage_config (see tests/s3server.py). The live site for the real Mastodon clients' tests:
# fixtures live and live_site (see tests/mastodon_live.py).
pytest_plugins = ["tests.s3server", "tests.mastodon_live"]

speedups.install()

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_POSTGRES = as_bool(os.environ.get("REQUIRE_POSTGRES"))


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-tests"
    WTF_CSRF_ENABLED = False
    SERVER_NAME = None
    SITE_URL = "http://microblog.test"
    # Background work runs at once, in its own app context, so tests see its effects.
    JOBS_BACKEND = "sync"
    # Peers in the federation tests are servers on 127.0.0.1.
    FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
    REDIS_URL = None
    MAIL_SERVER = None
    EMAIL_CONFIRMATION = False
    # Limits are tested on purpose, with apps that switch them on.
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"


# The lanes (README, "Development"): these folders and modules are marked here, so a new test there
# is in its lane without a decorator. A slow test anywhere else says so with @pytest.mark.slow.
TESTS = Path(__file__).resolve().parent
LANES = {TESTS / "browser": "browser", TESTS / "faults": "faults", TESTS / "deploy": "deploy",
         TESTS / "test_api_fuzz.py": "fuzz", TESTS / "security" / "test_fuzz_web.py": "fuzz",
         TESTS / "test_mastodon_fuzz.py": "fuzz"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for place, marker in LANES.items():
            if item.path == place or item.path.is_relative_to(place):
                item.add_marker(marker)


# Passwords: argon2id at the production cost (OWASP's minimum) takes about 30 ms to hash and as long
# to check, and tests sign in all the time; they hash at argon2's lowest cost instead. Tests about the
# cost itself (its parameters, the time a sign-in takes) ask for ``production_password_hashing``.
PRODUCTION_HASHER = passwords._hasher
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", CHEAP_HASHER)
        yield


@pytest.fixture
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PRODUCTION_HASHER)


def require_or_skip(available: bool, what: str, variable: str) -> None:
    """Skip when a service is missing, unless CI said it must be there (then fail)."""
    if available:
        return
    if as_bool(os.environ.get(variable)):
        pytest.fail(f"{what} is required ({variable}=1) but not available", pytrace=False)
    pytest.skip(f"{what} not available (set {variable}=1 to make this a failure)")


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[sa.Engine | None]:
    if not TEST_DATABASE_URL:
        yield None
        return
    engine = sa.create_engine(
        database_url(TEST_DATABASE_URL, instance_dir=None), isolation_level="AUTOCOMMIT"
    )
    yield engine
    engine.dispose()


class PostgresSchemas:
    """The PostgreSQL schemas of one test process, each test's database: used again once emptied.

    Making a schema's tables and dropping them again costs PostgreSQL far more than deleting a test's
    few rows, and most tests want the same empty tables. So a schema a test leaves with exactly the
    tables, columns and indexes ``create_all`` made is emptied (its rows deleted, its sequences reset)
    and handed to a later test; any other schema (a test that ran the migrations, dropped a table,
    altered one) is dropped as before. A test asking for no tables (``make_app(create_tables=False)``)
    gets an empty schema.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.free: list[str] = []  # schemas with every table and no rows
        self.shape: tuple | None = None  # what create_all makes, as read from the catalog

    def take(self) -> tuple[str, bool]:
        """A schema for a test, and whether it already has every table."""
        if self.free:
            return self.free.pop(), True
        schema = f"test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        return schema, False

    def _shape(self, conn: sa.Connection, schema: str) -> tuple:
        """The schema's columns and indexes, with its own name taken out (it is in the definitions)."""
        rows = conn.execute(sa.text(
            "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')"
            " FROM information_schema.columns WHERE table_schema = :s"
            " UNION ALL SELECT tablename, indexname, indexdef, '', '' FROM pg_indexes WHERE schemaname = :s"
            " ORDER BY 1, 2, 3"), {"s": schema}).all()
        return tuple(tuple(str(value).replace(f'"{schema}".', "").replace(f"{schema}.", "") for value in row)
                     for row in rows)

    def built(self, schema: str) -> None:
        """``create_all`` has just made the tables of ``schema``: remember their shape (once)."""
        if self.shape is None:
            with self.engine.connect() as conn:
                self.shape = self._shape(conn, schema)

    def empty(self, schema: str) -> None:
        """Remove every table of ``schema`` (a test that makes its own, with the migrations)."""
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def give_back(self, schema: str) -> None:
        """After the test: empty the schema for the next one if it is as create_all made it, else drop it."""
        try:
            self._give_back(schema)
        except sa.exc.DBAPIError:  # a process of the test's still holds a lock: leave that schema
            pass

    def _give_back(self, schema: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SET lock_timeout = '10s'"))
            if self.shape is not None and self._shape(conn, schema) == self.shape:
                # One round trip: children before parents, then every sequence back to 1.
                tables = reversed(db.metadata.sorted_tables)
                reset = ("SELECT setval(quote_ident(sequence_schema) || '.' || quote_ident(sequence_name), 1,"
                         f" false) FROM information_schema.sequences WHERE sequence_schema = '{schema}'")
                conn.exec_driver_sql("; ".join([f'DELETE FROM "{schema}"."{table.name}"' for table in tables]
                                               + [reset]))
                self.free.append(schema)
                return
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))

    def close(self) -> None:
        with self.engine.connect() as conn:
            for schema in self.free:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        self.free.clear()


@pytest.fixture(scope="session")
def postgres_schemas(postgres_admin_engine) -> Iterator[PostgresSchemas | None]:
    if postgres_admin_engine is None:
        yield None
        return
    schemas = PostgresSchemas(postgres_admin_engine)
    yield schemas
    schemas.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path, postgres_admin_engine, postgres_schemas) -> Iterator[dict]:
    """Config overrides for a fresh, empty database: a SQLite file, or a PostgreSQL schema of its own
    (``TEST_SCHEMA_READY`` says whether its tables are already made, see :class:`PostgresSchemas`)."""
    if request.param == "sqlite":
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}"}
        return
    require_or_skip(postgres_admin_engine is not None, "PostgreSQL (TEST_DATABASE_URL)", "REQUIRE_POSTGRES")
    schema, ready = postgres_schemas.take()
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": str(postgres_admin_engine.url.render_as_string(hide_password=False)),
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
            "TEST_SCHEMA": schema,
            "TEST_SCHEMA_READY": ready,
        }
    finally:
        postgres_schemas.give_back(schema)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An empty SQLite database with every table, built once per test process: a test's database
    starts as a copy of it, which is much quicker than ``create_all`` for every test."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "app.db"
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "INSTANCE_DIR": str(folder / "instance"),
                "WHOOSH_INDEX_DIR": str(folder / "idx")}
    app = create_app(TestConfig, settings)
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()  # the last connection out checkpoints the WAL: the file alone is complete
    assert not path.with_name("app.db-wal").exists()
    return path


def copy_sqlite_template(uri: str, template: Path) -> bool:
    """Start a database that is not there yet as a copy of the template; False if ``uri`` is not one."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or "?" in uri:
        return False
    path = Path(uri[len(prefix):])
    if path.exists() or not path.parent.is_dir():
        return False  # a second app on the test's database, or a folder the test left out on purpose
    shutil.copyfile(template, path)
    return True


@pytest.fixture
def make_app(database, tmp_path, sqlite_template, postgres_schemas):
    """Build apps with extra settings on this test's database (for tests that need CSRF on, etc.)."""
    built: list[Flask] = []

    def _make(create_tables: bool = True, **overrides) -> Flask:
        settings = {"INSTANCE_DIR": str(tmp_path / "instance"), "WHOOSH_INDEX_DIR": str(tmp_path / "idx"),
                    **database, **overrides}
        schema = database.get("TEST_SCHEMA")
        if schema and not create_tables and database["TEST_SCHEMA_READY"] and not built:
            postgres_schemas.empty(schema)  # a schema used before, for a test that makes its own tables
            database["TEST_SCHEMA_READY"] = False
        copied = create_tables and copy_sqlite_template(settings["SQLALCHEMY_DATABASE_URI"], sqlite_template)
        app = create_app(TestConfig, settings)
        speedups.share_templates(app)
        if create_tables and not copied and not database.get("TEST_SCHEMA_READY"):
            with app.app_context():
                db.create_all()
            if schema:
                postgres_schemas.built(schema)
                database["TEST_SCHEMA_READY"] = True
        built.append(app)
        return app

    yield _make
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class AuthActions:
    """Log a test client in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str = "alice", password: str = "correct-horse", remember: bool = False):
        data = {"username": username, "password": password}
        if remember:
            data["remember_me"] = "y"
        return self._client.post("/auth/login", data=data)

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free local port; ``smtp_server.inbox`` holds what it received."""
    from tests.smtp import SMTPServer

    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app, smtp_server) -> Flask:
    """An app that sends mail to the test SMTP server."""
    return make_app(**smtp_server.settings())


@pytest.fixture
def redis_url() -> str:
    """A Redis database for queue tests (TEST_REDIS_URL); skips, or fails under REQUIRE_REDIS=1."""
    url = os.environ.get("TEST_REDIS_URL")
    available = False
    if url:
        from redis import Redis
        from redis.exceptions import RedisError

        try:
            available = bool(Redis.from_url(url, socket_connect_timeout=2).ping())
        except RedisError:
            available = False
    require_or_skip(available, "Redis (TEST_REDIS_URL)", "REQUIRE_REDIS")
    return url
