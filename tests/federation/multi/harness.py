"""Real instances of this app federating over loopback HTTP, and the people who use them.

An :class:`Instance` is gunicorn serving the app in a process of its own (one worker, several threads:
a request that fetches from a peer may be answered by a peer that fetches back, and jobs run in the
worker's own job thread, ``JOBS_BACKEND=thread``), with its own SQLite database (a copy of one migrated
by ``flask db upgrade``), instance folder, search index, secret key and ``SITE_URL``
``http://127.0.0.1:<port>`` (so its domain, in ``@name@domain``, carries the port). Its output goes to
``<folder>/server.log``; the tests show the part of it written during a failed test.

A :class:`Person` signs up on an instance through the real registration form, keeps that browser
session (``web``) and gets a Mastodon API token through the real OAuth code flow (``api``): the flows
drive both the way a person or a client app would.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests

from bench.servers import BIN, NOT_INHERITED, ROOT, free_port

PASSWORD = "federating-horse-battery"
# Seconds to wait for something to happen on another instance (a delivery, then a job there): generous,
# for a machine busy with a parallel test run.
REMOTE_TIMEOUT = 30.0
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HIDDEN_RE = re.compile(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)"')
CODE_RE = re.compile(r'id="oauth-code" value="([^"]+)"')
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = "read write follow push"
_names = itertools.count(1)

T = TypeVar("T")


def migrated_database(folder: Path) -> Path:
    """An empty database at the migrations' head, made by ``flask db upgrade`` as a release step does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.db"
    env = base_env(f"sqlite:///{path}", folder / "instance", "http://127.0.0.1:1")
    done = subprocess.run([str(BIN / "flask"), "--app", "microblog", "db", "upgrade"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}"
    return path


def base_env(database_url: str, instance_dir: Path, site_url: str, **settings: str) -> dict[str, str]:
    """The environment of one instance's processes (the development Config, not ProdConfig: its secure
    cookies would not come back over plain HTTP)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(NOT_INHERITED) and key not in ("MICROBLOG_ENV", "SITE_URL", "SERVER_NAME",
                                                               "TRUSTED_HOSTS", "PROXY_HOPS")}
    env.update({
        "FLASK_APP": "microblog",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(instance_dir),
        "SITE_URL": site_url,
        "FEDERATION_ENABLED": "1",
        "FEDERATION_ALLOW_PRIVATE_ADDRESSES": "1",
        # A peer that is down is found out quickly.
        "FEDERATION_TIMEOUT": "5",
        "JOBS_BACKEND": "thread",
        "RATELIMIT_ENABLED": "0",
        "EMAIL_CONFIRMATION": "0",
        "LOG_TO_STDOUT": "1",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
        **settings,
    })
    return env


@dataclass
class Instance:
    """One site: its folder, port, environment, and the gunicorn serving it (None while stopped)."""

    name: str
    folder: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None
    starts: int = 0

    @classmethod
    def create(cls, name: str, folder: Path, template: Path, **settings: str) -> Instance:
        folder.mkdir(parents=True)
        database = folder / "app.db"
        shutil.copyfile(template, database)
        port = free_port()
        env = base_env(f"sqlite:///{database}", folder / "instance", f"http://127.0.0.1:{port}", **settings)
        return cls(name, folder, port, env)

    # -- where it is ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def domain(self) -> str:
        """The host this site federates as: ``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.folder / "app.db"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int, limit: int = 20_000) -> str:
        """What the server wrote after ``offset`` (the last ``limit`` characters of it)."""
        if not self.log.exists():
            return ""
        with open(self.log, "rb") as out:
            out.seek(offset)
            text = out.read().decode("utf-8", "replace")
        return text if len(text) <= limit else "...\n" + text[-limit:]

    # -- running it -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Serve the site (again: same port, same database) and return once /healthz answers 200."""
        assert not self.running, f"{self.name} is already running"
        self.starts += 1
        with open(self.log, "a") as out:
            out.write(f"\n===== {self.name} start #{self.starts} on {self.url} =====\n")
            out.flush()
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", "1", "--threads", "8",
                 "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
                 "--access-logfile", "-", "--error-logfile", "-", "microblog:create_app()"],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited at start:\n{self.log_since(0)}")
            try:
                if requests.get(self.url + "/healthz", timeout=10).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or still booting
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"{self.name} did not answer within {timeout} s:\n{self.log_since(0)}")

    def stop(self) -> None:
        """Stop gunicorn (SIGTERM to its process group, SIGKILL if it lingers) and wait for it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """``flask --app microblog ARGS`` on this site's database (jobs run in the command itself)."""
        env = {**self.env, "JOBS_BACKEND": "sync"}
        return subprocess.run([str(BIN / "flask"), "--app", "microblog", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def sql(self, statement: str, *params: Any) -> list[tuple]:
        """Read (or, for test setup, write) this site's database directly."""
        import sqlite3

        with sqlite3.connect(self.database, timeout=30) as conn:
            rows = conn.execute(statement, params).fetchall()
        conn.close()
        return rows

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)


@dataclass
class Person:
    """Someone with an account on ``instance``: a signed-in browser session and an API token."""

    instance: Instance
    username: str
    web: requests.Session = field(default_factory=requests.Session)
    token: str = ""

    @classmethod
    def sign_up(cls, instance: Instance, prefix: str) -> Person:
        """A new account (a unique name starting with ``prefix``) made through the registration form."""
        person = cls(instance, f"{prefix}{next(_names)}_{secrets.token_hex(2)}")
        page = person.web.get(instance.url + "/auth/register", timeout=30)
        assert page.status_code == 200, page.text[:500]
        form = {"username": person.username, "email": f"{person.username}@example.com", "password": PASSWORD,
                "password2": PASSWORD, "csrf_token": csrf_token(page.text)}
        answer = person.web.post(instance.url + "/auth/register", data=form, timeout=30,
                                 allow_redirects=False)
        assert answer.status_code == 302, f"sign-up of {person.username} refused:\n{answer.text[:2000]}"
        person.token = person._oauth_token()
        return person

    def _oauth_token(self) -> str:
        """The OAuth code flow: register an app, consent in the signed-in browser, exchange the code."""
        base = self.instance.url
        app = requests.post(f"{base}/api/v1/apps", timeout=30,
                            data={"client_name": "federation tests", "redirect_uris": OOB, "scopes": SCOPES})
        assert app.status_code == 200, app.text
        client = app.json()
        query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": OOB,
                 "scope": SCOPES}
        page = self.web.get(f"{base}/oauth/authorize?{urlencode(query)}", timeout=30)
        assert page.status_code == 200 and "Authorize" in page.text, page.text[:2000]
        form = dict(HIDDEN_RE.findall(page.text))
        form["authorize"] = "Authorize"
        answer = self.web.post(f"{base}/oauth/authorize", data=form, timeout=30)
        assert answer.status_code == 200, answer.text[:2000]
        code = CODE_RE.search(answer.text)
        assert code, answer.text[:2000]
        token = requests.post(f"{base}/oauth/token", timeout=30, data={
            "grant_type": "authorization_code", "code": code.group(1), "redirect_uri": OOB,
            "client_id": client["client_id"], "client_secret": client["client_secret"]})
        assert token.status_code == 200, token.text
        return token.json()["access_token"]

    # -- who --------------------------------------------------------------------------------------
    @property
    def handle(self) -> str:
        """``@name@127.0.0.1:port``, as someone elsewhere types it in search."""
        return f"@{self.username}@{self.instance.domain}"

    @property
    def acct(self) -> str:
        """The ``acct`` another instance's Mastodon API gives this account: ``name@domain``."""
        return f"{self.username}@{self.instance.domain}"

    @property
    def actor_uri(self) -> str:
        return f"{self.instance.url}/user/{self.username}"

    # -- the Mastodon API, with the token ---------------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.instance.url + path, headers=headers, timeout=60, **kwargs)

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """The JSON of an API call that must answer ``expect``."""
        response = self.api(method, path, **kwargs)
        assert response.status_code == expect, \
            f"{method} {path} on {self.instance.name}: {response.status_code} {response.text[:2000]}"
        return response.json()

    def me(self) -> dict[str, Any]:
        return self.call("GET", "/api/v1/accounts/verify_credentials")

    def page(self, path: str) -> requests.Response:
        """A page of the site in the signed-in browser."""
        return self.web.get(self.instance.url + path, timeout=30)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def eventually(check: Callable[[], T | None], what: str, timeout: float = REMOTE_TIMEOUT,
               interval: float = 0.25) -> T:
    """Call ``check`` until it returns something true (returned) or ``timeout`` seconds pass (failure,
    with the last value or exception). Remote effects go through a delivery job and an inbox job."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except (AssertionError, requests.RequestException, KeyError, ValueError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)
