"""Processes for the bench and the fault tests: a production environment, gunicorn, and HTTP to it.

Everything listens on 127.0.0.1, on free ports. Every gunicorn started here is remembered, so
:func:`stop_all` can stop whatever a failed run left behind.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DEMO_PASSWORD = "microblog-demo"  # microblog.seed.DEMO_PASSWORD (not imported: config reads the env)

# Settings a developer's shell may carry that would change what a production process does here.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "MAIL_", "SEARCH_", "WHOOSH_", "JOBS_")


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], env: dict[str, str], label: str, quiet: bool = False) -> str:
    """Run a command in the project root; its output, or exit with it when the command fails."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench: {label} failed ({' '.join(cmd)})")
    if not quiet:
        say(f"  {label}: {time.perf_counter() - started:.1f} s")
    return done.stdout


def production_env(database_url: str, instance_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a deployed process (``MICROBLOG_ENV=production``, a random secret key)
    on ``database_url``, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(NOT_INHERITED)}
    env.update({
        "FLASK_APP": "microblog",
        "MICROBLOG_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(instance_dir),
        "LOG_TO_STDOUT": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
        **settings,
    })
    return env


# -- gunicorn ----------------------------------------------------------------------------------
@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    database: str | None = None  # PostgreSQL database name, to count its server processes' CPU


_children: list[subprocess.Popen] = []


def start_gunicorn(app: str, env: dict[str, str], workdir: Path, name: str, workers: int,
                   port: int | None = None) -> Server:
    """gunicorn as the Procfile runs it (sync workers, logs to a file here instead of stdout).

    Returns once it answers 200 (``/healthz`` for the app ``name="app"``, ``/`` for any other).
    """
    port = port or free_port()
    log = workdir / f"{name}.log"
    cmd = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
           "--access-logfile", "-", "--error-logfile", "-", app]
    with open(log, "a") as out:
        process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    _children.append(process)
    server = Server(process, port, log, pg_database(env.get("DATABASE_URL", "")))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: gunicorn {name} exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            status, _, _ = http_request(server, "GET", "/healthz" if name == "app" else "/")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise SystemExit(f"bench: gunicorn {name} did not answer within 60 s; see {log}")


def pg_database(url: str) -> str | None:
    if not url.startswith("postgresql"):
        return None
    return urllib.parse.urlsplit(url).path.lstrip("/") or None


def stop(server: Server) -> None:
    """Stop gunicorn (the master stops its workers) and wait for it."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process in _children:
        _children.remove(process)


def stop_all(*_args) -> None:
    for process in list(_children):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    _children.clear()


# -- HTTP with a cookie, for setting up (wrk does the measuring) -------------------------------
def http_request(server: Server, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        found = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
        cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
        if cookies:
            found["set-cookie"] = "\n".join(cookies)
        return response.status, found, text
    finally:
        conn.close()


def session_cookie(headers: dict[str, str]) -> str | None:
    for line in headers.get("set-cookie", "").split("\n"):
        if line.startswith("session="):
            return line.split(";", 1)[0]
    return None


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise SystemExit("bench: no CSRF token on the page")
    return match.group(1) or match.group(2)


def sign_in(server: Server, username: str) -> tuple[str, str]:
    """Sign in through the real form; return the session cookie and the page's CSRF token."""
    status, headers, html = http_request(server, "GET", "/auth/login")
    cookie = session_cookie(headers) or ""
    form = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD,
                                   "csrf_token": csrf_token(html)})
    status, headers, _ = http_request(server, "POST", "/auth/login", form.encode(), {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    cookie = session_cookie(headers)
    if status != 302 or not cookie:
        raise SystemExit(f"bench: could not sign in as {username} (HTTP {status})")
    # The first form on the signed-in session puts its CSRF secret in the session: keep that cookie.
    status, headers, html = http_request(server, "GET", "/", headers={"Cookie": cookie})
    return session_cookie(headers) or cookie, csrf_token(html)


def api_token(server: Server, username: str) -> str:
    basic = b64encode(f"{username}:{DEMO_PASSWORD}".encode()).decode()
    status, _, text = http_request(server, "POST", "/api/tokens", b"", {"Authorization": f"Basic {basic}"})
    if status != 201:
        raise SystemExit(f"bench: no API token for {username} (HTTP {status}: {text[:200]})")
    return json.loads(text)["token"]


HIDDEN_RE = re.compile(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)"')
OAUTH_CODE_RE = re.compile(r'id="oauth-code" value="([^"]+)"')
OOB = "urn:ietf:wg:oauth:2.0:oob"


def mastodon_token(server: Server, cookie: str) -> str:
    """An OAuth token for the signed-in user (``cookie``), as a Mastodon app gets one: register an
    app, say yes on the consent page, exchange the code (``read`` scope)."""
    def form(path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str]:
        status, _, text = http_request(server, "POST", path, urllib.parse.urlencode(fields).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        return status, text

    status, text = form("/api/v1/apps", {"client_name": "bench", "redirect_uris": OOB, "scopes": "read"})
    if status != 200:
        raise SystemExit(f"bench: could not register an app (HTTP {status}: {text[:200]})")
    app = json.loads(text)
    query = urllib.parse.urlencode({"response_type": "code", "client_id": app["client_id"],
                                    "redirect_uri": OOB, "scope": "read"})
    status, _, page = http_request(server, "GET", f"/oauth/authorize?{query}", headers={"Cookie": cookie})
    status, page = form("/oauth/authorize", {**dict(HIDDEN_RE.findall(page)), "authorize": "x"},
                        {"Cookie": cookie})
    code = OAUTH_CODE_RE.search(page)
    if status != 200 or not code:
        raise SystemExit(f"bench: no OAuth code from the consent page (HTTP {status})")
    status, text = form("/oauth/token", {"grant_type": "authorization_code", "code": code.group(1),
                                         "client_id": app["client_id"], "client_secret": app["client_secret"],
                                         "redirect_uri": OOB})
    if status != 200:
        raise SystemExit(f"bench: no OAuth token (HTTP {status}: {text[:200]})")
    return json.loads(text)["access_token"]


NEXT_RE = re.compile(r'rel="next" href="([^"]+)"')


def page_link(server: Server, start: str, number: int, cookie: str) -> tuple[str, int]:
    """Follow the pages' rel="next" links from ``start`` to page ``number`` (or the last page).

    Returns the URL and the page number reached, so a small data set gets its deepest page.
    """
    url, reached = start, 1
    while reached < number:
        status, _, html = http_request(server, "GET", url, headers={"Cookie": cookie})
        if status != 200:
            raise SystemExit(f"bench: {url} answered {status} while walking to page {number}")
        match = NEXT_RE.search(html)
        if not match:
            break
        url, reached = match.group(1).replace("&amp;", "&"), reached + 1
    return url, reached
