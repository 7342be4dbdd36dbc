"""Rate limits hold across gunicorn workers without Redis: every worker counts in one shared store.

Two real workers (gunicorn, as the Procfile serves the site) answer many anonymous API calls; the
limit is the limit, not twice it. One call is held half-sent while others go out, so its worker is
busy and the other must answer them; each worker's pid in the access log shows both answered.
A store that counts per worker (memory://) is refused in production unless accepted.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from bench.servers import http_request, start_gunicorn, stop
from tests.faults.processes import BIN, ROOT, flask, process_env

LIMIT = 6
CALLS = 40


def production_env(database, tmp_path, **extra: str) -> dict[str, str]:
    # No Redis and no storage setting: the default, a SQLite file in the instance folder.
    settings = {"RATELIMIT_STORAGE_URI": "", "RATELIMIT_API": f"{LIMIT} per 10 minutes",
                "GUNICORN_CMD_ARGS": "--access-logformat 'worker=%(p)s status=%(s)s path=%(U)s'", **extra}
    env = process_env(database, tmp_path, **settings)
    (tmp_path / "instance").mkdir(exist_ok=True)
    release = flask(env, "db", "upgrade")
    assert release.returncode == 0, release.stderr
    return env


def held_call(port: int) -> socket.socket:
    """A call whose headers are not finished: a sync worker takes it and waits for the rest."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=60)
    connection.sendall(b"GET /api/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return connection


def finish(connection: socket.socket) -> int:
    connection.sendall(b"Connection: close\r\n\r\n")
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    connection.close()
    return int(answer.split(b" ", 2)[1])


def test_two_workers_share_one_count_without_redis(database, tmp_path):
    env = production_env(database, tmp_path)
    server = start_gunicorn("microblog:create_app()", env, tmp_path, "app", workers=2)
    try:
        held = held_call(server.port)
        time.sleep(0.5)  # taken by one worker: the next calls go to the other (once it has booted)
        statuses = [http_request(server, "GET", "/api/posts")[0] for _ in range(2)]
        statuses.append(finish(held))
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses += pool.map(lambda _: http_request(server, "GET", "/api/posts")[0], range(CALLS - 3))
    finally:
        stop(server)
    log = server.log.read_text()
    answered = re.findall(r"worker=<(\d+)> status=\d+ path=(\S+)", log)
    workers = {pid for pid, path in answered if path == "/api/posts"}
    assert len(workers) == 2, f"only {workers} answered: the test did not reach both workers\n{log[-2000:]}"
    assert sorted(statuses) == [200] * LIMIT + [429] * (CALLS - LIMIT)
    assert (tmp_path / "instance" / "ratelimits.sqlite").exists()


def test_production_refuses_per_worker_limits_unless_told_to_accept_them(database, tmp_path):
    env = production_env(database, tmp_path, RATELIMIT_STORAGE_URI="memory://")
    refused = subprocess.run(
        [str(BIN / "gunicorn"), "--workers", "2", "--bind", "127.0.0.1:0", "microblog:create_app()"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0
    assert "counted separately in each worker" in refused.stdout + refused.stderr
    assert "RATELIMIT_ALLOW_PER_WORKER=1" in refused.stdout + refused.stderr
    # Told to accept it, it starts, and says so in its log.
    accepted = {**env, "RATELIMIT_ALLOW_PER_WORKER": "1"}
    server = start_gunicorn("microblog:create_app()", accepted, tmp_path, "app", workers=2)
    try:
        assert http_request(server, "GET", "/api/posts")[0] == 200
    finally:
        stop(server)
    assert "counted separately in each worker" in server.log.read_text()
