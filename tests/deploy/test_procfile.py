"""The Procfile, run by honcho as a Procfile platform would: release migrates, web serves, worker mails.

The settings come from an env file, as on Heroku (``heroku config``) or with ``honcho -e``; the
Procfile itself supplies MICROBLOG_ENV=production. The database is a new, empty PostgreSQL
database named in Heroku's ``postgres://`` form. The app runs from a copy of the project, as a
platform runs a build of it: the web entry compiles the catalogs in place, and must not rewrite
the .mo files that other tests are reading.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from bench.servers import BIN, NOT_INHERITED, ROOT, free_port
from tests.deploy.conftest import program
from tests.deploy.web import Browser, reset_link
from tests.faults.processes import wait_for

pytestmark = pytest.mark.postgres


def project_copy(folder: Path) -> Path:
    """What a platform builds from the repository: the code, without tests, local data or caches."""
    shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(
        ".git", ".venv", "instance", "backups", "tests", "bench", "__pycache__", ".pytest_cache", "*.mo"))
    return folder


def honcho_env(tmp_path: Path, settings: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """An env file with ``settings``, and a process environment that carries none of this shell's
    site settings (the Procfile and the file must be enough)."""
    env_file = tmp_path / "site.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    dropped = (*NOT_INHERITED, "MICROBLOG_ENV", "SECRET_KEY", "FLASK_APP", "PORT", "INSTANCE_DIR", "SITE_URL",
               "PYTHONPATH")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env.update(PATH=f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}", PYTHONUNBUFFERED="1")
    return env_file, env


def test_release_then_web_and_worker(new_postgres_database, redis_url, smtp_server, tmp_path):
    honcho = program("honcho", "PyPI honcho, in requirements-dev.txt")
    port = free_port()
    queue = f"deploy-{uuid.uuid4().hex[:8]}"
    env_file, env = honcho_env(tmp_path, {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": new_postgres_database().replace("postgresql://", "postgres://", 1),
        "REDIS_URL": redis_url, "JOBS_QUEUE": queue,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
        "MAIL_DEFAULT_SENDER": "Microblog <noreply@microblog.test>",
        "SITE_URL": f"http://127.0.0.1:{port}", "INSTANCE_DIR": str(tmp_path / "instance"),
        "WEB_CONCURRENCY": "1",
        # Sign-ups from 127.0.0.1 are counted in the shared test Redis: room for repeated runs.
        "RATELIMIT_SIGNUP": "100 per minute",
    })
    app_root = project_copy(tmp_path / "app")
    base = [honcho, "--procfile", str(app_root / "Procfile"), "--app-root", str(app_root),
            "--env", str(env_file), "--no-colour"]

    release = subprocess.run([*base, "start", "release"], env=env, cwd=app_root, capture_output=True,
                             text=True, timeout=120, check=False)
    assert release.returncode == 0, release.stdout + release.stderr
    assert "Running upgrade 0011 -> 0012" in release.stdout

    log = tmp_path / "honcho.log"
    with open(log, "w") as out:
        site = subprocess.Popen([*base, "start", "--port", str(port), "web", "worker"], env=env, cwd=app_root,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        visitor = Browser(port)
        health = wait_for(lambda: _answer(visitor, "/healthz"), 60, f"web to answer; honcho said:\n{log}")
        assert health.status == 200 and health.text.strip() == '{"status":"ok"}'
        assert visitor.get("/explore").status == 200
        # The web entry compiled the catalogs it serves.
        assert (app_root / "translations" / "fr" / "LC_MESSAGES" / "messages.mo").is_file()

        # Production settings are in force: the session cookie is Secure, HSTS is sent.
        page = visitor.get("/auth/register")
        assert any("Secure" in line for line in page.all("Set-Cookie"))
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")

        signed_up = visitor.submit("/auth/register", {
            "username": "ada", "email": "ada@example.com",
            "password": "a long and unusual pass phrase", "password2": "a long and unusual pass phrase"})
        assert signed_up.status == 302, signed_up.text[:2000]
        asked = visitor.submit("/auth/reset_password_request", {"email": "ada@example.com"})
        assert asked.status == 302

        # The web process queued the mail in Redis; the worker process sent it.
        mail = wait_for(lambda: [m for m in smtp_server.inbox if "reset" in m["Subject"].lower()], 60,
                        f"the reset mail; honcho said:\n{log.read_text()[-3000:]}")[0]
        assert mail["To"] == "ada@example.com"
        link = reset_link(mail.get_body(preferencelist=("plain",)).get_content())
        assert link.startswith(f"http://127.0.0.1:{port}/auth/reset_password/")
        assert visitor.get(link.removeprefix(f"http://127.0.0.1:{port}")).status == 200
        output = log.read_text()
        assert any("worker.1" in line and "Successfully completed" in line and "send_password_reset" in line
                   for line in output.splitlines()), output
    finally:
        os.killpg(site.pid, signal.SIGTERM)  # honcho stops web and worker, as on a dyno restart
        try:
            site.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(site.pid, signal.SIGKILL)
            site.wait(10)


def _answer(visitor: Browser, path: str):
    try:
        return visitor.get(path)
    except OSError:
        return None
