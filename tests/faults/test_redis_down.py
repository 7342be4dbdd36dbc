"""Redis stops while the site runs: pages, sign-in, posting and the API keep working, limits still hold.

Redis is a real ``redis-server`` this test starts on a free port and kills (SIGKILL), then starts
again on the same port. Jobs falling back to in-process are covered in tests/test_jobs.py; here
the rate limiter's storage goes away under a running app.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from base64 import b64encode

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post
from tests.factories import make_user
from tests.smtp import free_port


class RedisServer:
    """A throwaway redis-server on ``port``, started and killed by this test only."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from redis import Redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except OSError:
                pass
            except Exception:  # noqa: BLE001 - redis.ConnectionError while it starts
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def keys(self) -> int:
        from redis import Redis

        return Redis.from_url(self.url, socket_connect_timeout=1).dbsize()


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.kill()


def sign_in_and_use_the_site(client, n: int) -> None:
    """Everything a visitor does, none of which may fail because Redis is gone."""
    response = client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    assert response.status_code == 302, response.status_code
    assert client.post("/", data={"post": f"post number {n}"}).status_code == 302
    for path in ("/", "/explore", "/user/alice", "/notifications/count.json"):
        assert client.get(path).status_code == 200, path
    basic = b64encode(b"alice:correct-horse").decode()
    token = client.post("/api/tokens", headers={"Authorization": f"Basic {basic}"})
    assert token.status_code == 201
    api = client.get("/api/posts", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert api.status_code == 200
    client.post("/auth/logout")


def test_rate_limits_survive_redis_stopping_and_use_it_again_when_back(make_app, redis_server, caplog):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_server.url, REDIS_URL=redis_server.url,
                   JOBS_BACKEND="rq", RATELIMIT_LOGIN="10 per 5 minutes")
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    sign_in_and_use_the_site(client, 1)
    assert redis_server.keys() > 0  # the limits are counted in Redis

    redis_server.kill()
    started = time.monotonic()
    sign_in_and_use_the_site(client, 2)
    assert time.monotonic() - started < 10  # no long hangs on the dead server
    assert "falling back to in-memory storage" in caplog.text
    # The limits still hold, counted in memory: wrong passwords run into 429, never a 500.
    statuses = [client.post("/auth/login", data={"username": "alice", "password": "wrong"}).status_code
                for _ in range(12)]
    assert 500 not in statuses and statuses[-1] == 429
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2
    app.extensions["jobs_runner"].join()  # the posts' jobs ran in-process

    redis_server.start()  # back, on the same port, empty
    deadline = time.monotonic() + 10
    while redis_server.keys() == 0 and time.monotonic() < deadline:
        client.get("/auth/login")
        client.post("/auth/login", data={"username": "nobody", "password": "x"})
        time.sleep(0.2)
    assert redis_server.keys() > 0  # the limiter went back to Redis by itself
