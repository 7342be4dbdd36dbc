"""Deploy check: the production app, configured from the environment as on a server, is locked down."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from config import ProdConfig
from microblog import create_app
from microblog.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]

# Builds the app as gunicorn does (create_app() with MICROBLOG_ENV=production) and prints its settings.
REPORT = """
import json
import os
from microblog import create_app
app = create_app()
c = app.config
print(json.dumps({
    "debug": app.debug, "testing": app.testing, "key_length": len(app.secret_key),
    "fallbacks": len(c["SECRET_KEY_FALLBACKS"]), "trusted_hosts": c["TRUSTED_HOSTS"],
    "server_name": c["SERVER_NAME"], "hsts": c["HSTS_SECONDS"],
    "session_cookie": [
        c["SESSION_COOKIE_SECURE"], c["SESSION_COOKIE_HTTPONLY"], c["SESSION_COOKIE_SAMESITE"]
    ],
    "remember_cookie": [
        c["REMEMBER_COOKIE_SECURE"], c["REMEMBER_COOKIE_HTTPONLY"], c["REMEMBER_COOKIE_SAMESITE"]
    ],
    "remember_seconds": c["REMEMBER_COOKIE_DURATION"].total_seconds(),
    "session_seconds": c["PERMANENT_SESSION_LIFETIME"].total_seconds(),
}))
"""


def production_settings_from(env: dict[str, str], tmp_path) -> dict:
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("SECRET_KEY", "TRUSTED_HOSTS", "SERVER_NAME", "FLASK_", "REMEMBER_"))}
    environ.update({"MICROBLOG_ENV": "production", "INSTANCE_DIR": str(tmp_path / "instance"),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.db'}", "SCHEMA_CHECK": "0",
                    "LOG_TO_STDOUT": "1", "PYTHONPATH": str(ROOT), **env})
    done = subprocess.run([sys.executable, "-c", REPORT], env=environ, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_production_config_from_the_environment(tmp_path):
    report = production_settings_from({
        "SECRET_KEY": secrets.token_hex(32),
        "SECRET_KEY_FALLBACKS": f"{secrets.token_hex(32)}, {secrets.token_hex(32)}",
        "TRUSTED_HOSTS": "microblog.example, www.microblog.example", "SERVER_NAME": "microblog.example",
        "REMEMBER_COOKIE_DAYS": "365",  # asking for more than 30 days still gives 30
    }, tmp_path)
    assert report["debug"] is False and report["testing"] is False
    assert report["key_length"] >= 32 and report["fallbacks"] == 2
    assert report["trusted_hosts"] == ["microblog.example", "www.microblog.example"]
    assert report["server_name"] == "microblog.example"
    assert report["hsts"] >= 365 * 24 * 3600
    assert report["session_cookie"] == report["remember_cookie"] == [True, True, "Lax"]
    assert report["remember_seconds"] <= timedelta(days=30).total_seconds()
    assert report["session_seconds"] <= timedelta(days=30).total_seconds()


@pytest.fixture
def production_app(database, tmp_path):
    app = create_app(ProdConfig, {
        **database, "SECRET_KEY": secrets.token_hex(32), "INSTANCE_DIR": str(tmp_path / "instance"),
        "LOG_TO_STDOUT": True, "TRUSTED_HOSTS": ["microblog.example"], "WTF_CSRF_ENABLED": False,
        "WHOOSH_INDEX_DIR": str(tmp_path / "idx"), "JOBS_BACKEND": "sync", "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://", "MAIL_SERVER": None, "EMAIL_CONFIRMATION": False,
    })
    with app.app_context():
        db.create_all()
        make_user("alice")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_production_responses_cookies_and_hosts(production_app):
    client = production_app.test_client()
    site = {"base_url": "https://microblog.example"}
    page = client.get("/auth/login", **site)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    signed_in = client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD,
                                                 "remember_me": "y"}, **site)
    assert signed_in.status_code == 302
    assert signed_in.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = {header.split("=", 1)[0]: header for header in signed_in.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        flags = [part.strip() for part in cookies[name].split(";")]
        assert "Secure" in flags and "HttpOnly" in flags and "SameSite=Lax" in flags, cookies[name]
    # A request for another host name is refused (Host header injection, cache poisoning).
    foreign = production_app.test_client().get("/auth/login", base_url="https://evil.example")
    assert foreign.status_code == 400
