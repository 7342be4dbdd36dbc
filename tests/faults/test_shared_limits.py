"""Rate limits hold across gunicorn workers without Redis: every worker counts in one shared store.

Two real workers (gunicorn, as the Procfile serves the site) answer many anonymous API calls sent
at once; the limit is the limit, not twice it. Each worker's pid is in the access log, to show both
answered. A store that counts per worker (memory://) is refused in production unless accepted.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

from bench.run import http_request, start_gunicorn, stop
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


def test_two_workers_share_one_count_without_redis(database, tmp_path):
    env = production_env(database, tmp_path)
    server = start_gunicorn("microblog:create_app()", env, tmp_path, "app", workers=2)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: http_request(server, "GET", "/api/posts")[0], range(CALLS)))
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
