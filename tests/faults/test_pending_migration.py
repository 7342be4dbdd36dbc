"""A pending migration: the app refuses to start on a schema behind head; the release step fixes it."""

from __future__ import annotations

import secrets
import subprocess

import pytest
from flask_migrate import upgrade

from bench.servers import http_request, start_gunicorn, stop
from microblog import create_app
from microblog.schema_check import SchemaOutOfDate, migrations_head, require_current_schema
from tests.faults.processes import BIN, ROOT, flask, process_env
from tests.smtp import free_port


def previous_revision(app) -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(app.extensions["migrate"].directory)
    (head,) = script.get_heads()
    return script.get_revision(head).down_revision


def test_a_schema_behind_head_is_refused_with_both_revisions(make_app, database, tmp_path, monkeypatch):
    app = make_app(create_tables=False)
    (head,) = migrations_head(app)
    behind = previous_revision(app)
    with app.app_context():
        upgrade(revision=behind)
    with pytest.raises(SchemaOutOfDate, match=f"at revision {behind} but this code needs revision {head}"):
        require_current_schema(app)
    # The production way: the configuration comes from the environment.
    monkeypatch.setenv("MICROBLOG_ENV", "production")
    settings = {**database, "SECRET_KEY": secrets.token_hex(32), "INSTANCE_DIR": str(tmp_path / "instance")}
    with pytest.raises(SchemaOutOfDate, match="flask db upgrade"):
        create_app(overrides=settings)
    with app.app_context():
        upgrade()
    require_current_schema(app)
    assert create_app(overrides=settings).config["SCHEMA_CHECK"] is True


def test_a_database_never_migrated_is_refused(make_app):
    app = make_app(create_tables=False)
    with pytest.raises(SchemaOutOfDate, match="revision none"):
        require_current_schema(app)


@pytest.mark.parametrize("uri", [
    "postgresql+psycopg://postgres@127.0.0.1:{port}/nothing?connect_timeout=2",
    "sqlite:///{tmp}/missing-folder/app.db",
])
def test_an_unreachable_database_does_not_stop_the_boot(make_app, tmp_path, uri):
    # The site then answers 503 until the database is back (tests/faults/test_database_down.py).
    app = make_app(create_tables=False, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
                   SQLALCHEMY_DATABASE_URI=uri.format(port=free_port(), tmp=tmp_path))
    require_current_schema(app)


def test_gunicorn_refuses_to_boot_until_the_release_step_migrates(make_app, database, tmp_path):
    app = make_app(create_tables=False)
    (head,) = migrations_head(app)
    behind = previous_revision(app)
    with app.app_context():
        upgrade(revision=behind)
    env = process_env(database, tmp_path, WEB_CONCURRENCY="1")
    (tmp_path / "instance").mkdir()
    refused = subprocess.run(
        [str(BIN / "gunicorn"), "--workers", "1", "--bind", "127.0.0.1:0", "microblog:create_app()"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0
    assert f"at revision {behind} but this code needs revision {head}" in refused.stdout + refused.stderr
    # The worker process refuses too, with the same message.
    worker = flask({**env, "REDIS_URL": "redis://127.0.0.1:1/0"}, "worker", "--burst")
    assert worker.returncode != 0 and f"needs revision {head}" in worker.stderr
    # The Procfile's release step, in production mode, is not blocked by the check it satisfies.
    release = flask(env, "db", "upgrade")
    assert release.returncode == 0, release.stderr
    server = start_gunicorn("microblog:create_app()", env, tmp_path, "app", workers=1)
    try:
        status, _, _ = http_request(server, "GET", "/explore")
        assert status == 200
    finally:
        stop(server)
