"""Real processes for fault tests: the environment a deployed process gets, and gunicorn or flask runs."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def database_url(database: dict) -> str:
    """The ``DATABASE_URL`` for the ``database`` fixture's settings (a PostgreSQL schema rides along)."""
    url = database["SQLALCHEMY_DATABASE_URI"]
    schema = database.get("TEST_SCHEMA")
    if schema:
        url += ("&" if "?" in url else "?") + "options=" + urllib.parse.quote(f"-csearch_path={schema}")
    return url


def process_env(database: dict, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment variables for a production process on this test's database, in ``tmp_path``."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_URL", "REDIS_URL", "MAIL_", "SEARCH_", "WHOOSH_", "JOBS_"))}
    env.update({
        "FLASK_APP": "microblog",
        "MICROBLOG_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url(database),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "LOG_TO_STDOUT": "1",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env


def flask(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``flask --app microblog ARGS`` as the Procfile does."""
    return subprocess.run([str(BIN / "flask"), "--app", "microblog", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)
