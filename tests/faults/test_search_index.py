"""The Whoosh index locked by another process, or on a disk that takes no more bytes.

Posting still saves the post; search says it is being rebuilt rather than answer from an index
that lost updates (never a 500); `flask search reindex` brings back exactly the database's posts.
A missing or corrupt index is covered in tests/test_search.py.

"Disk full" without root: the worker process that writes the index runs under RLIMIT_FSIZE = 0
(set in the child before it starts, with SIGXFSZ ignored), so every write that would grow a file
fails with EFBIG ("File too large") in the kernel, just as a full disk fails it with ENOSPC:
Whoosh's segment files cannot be written, while creating empty files (locks, markers) still works.
The database is not affected: PostgreSQL writes from its own processes, and the worker only reads
SQLite.
"""

from __future__ import annotations

import re
import resource
import signal
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from microblog import search
from microblog.extensions import db
from microblog.models import Post
from microblog.services import posts
from tests.factories import make_user
from tests.faults.processes import process_env, start_worker, stop_worker, wait_for, worker_output

HOLD_LOCKS = """
import fcntl, sys, time
from whoosh import index
directory, generation, rebuild = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
writer = index.open_dir(generation, indexname="posts").writer()  # Whoosh's write lock, held
if rebuild:  # and a rebuild that hangs: it holds the rebuild lock too
    handle = open(directory + "/rebuild.lock", "a+")
    fcntl.flock(handle, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def post_ids(app) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(sa.select(Post.id)))


def index_ids(app) -> set[int]:
    with app.app_context():
        return search.document_ids("posts")


def found(client, q: str) -> int:
    response = client.get(f"/search?q={q}")
    assert response.status_code in (200, 503), response.status_code
    if response.status_code == 503:
        assert "Search is being rebuilt" in response.get_data(as_text=True)
        assert response.headers["Retry-After"]
        return -1
    return len(set(re.findall(r'id="post-(\d+)"', response.get_data(as_text=True))))


def a_small_site(app) -> None:
    with app.app_context():
        alice = make_user("alice")
        for n in range(5):
            posts.publish_post(alice, f"ordinary post {n}")
        search.reindex()


def sign_in_and_post(client, app, body: str) -> None:
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    assert client.post("/", data={"post": body}).status_code == 302
    with app.app_context():  # saved, whatever happened to the index
        assert db.session.scalar(sa.select(sa.func.count()).where(Post.body == body)) == 1


@pytest.fixture
def locked_index(make_app):
    """An app on a built index, and a way to make another process hold its locks."""
    app = make_app(SEARCH_BACKEND="whoosh", WHOOSH_WRITER_TIMEOUT=1)
    a_small_site(app)
    holders: list[subprocess.Popen] = []

    def hold(rebuild_too: bool) -> None:
        with app.app_context():
            generation = search.backend().current()
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCKS, app.config["WHOOSH_INDEX_DIR"], str(generation),
             "1" if rebuild_too else "0"], stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout.readline().strip() == "locked"

    yield app, hold, holders
    for holder in holders:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def test_a_writer_holding_the_lock_too_long_is_worked_around(locked_index, caplog):
    app, hold, _ = locked_index
    client = app.test_client()
    hold(rebuild_too=False)
    sign_in_and_post(client, app, "Zeppelin over the harbour")
    assert "index busy for 1.0 s" in caplog.text
    # The lost write marked the index stale and asked for a rebuild, which needs no lock of the
    # old index: it ran (jobs run at once in tests) and the new post is found.
    assert found(client, "zeppelin") == 1
    assert index_ids(app) == post_ids(app)
    # The lock is still held: `flask search reindex` works all the same, to the exact count.
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 6 posts" in result.output
    assert index_ids(app) == post_ids(app)


def test_search_is_unavailable_while_a_hung_rebuild_holds_the_index(locked_index):
    app, hold, holders = locked_index
    client = app.test_client()
    hold(rebuild_too=True)
    sign_in_and_post(client, app, "Zeppelin over the harbour")
    # The index missed the post and no rebuild can start: search says so instead of lying.
    assert found(client, "zeppelin") == -1
    assert found(client, "ordinary") == -1
    assert client.get("/explore").status_code == 200  # the rest of the site is unaffected
    holders[0].send_signal(signal.SIGKILL)  # the hung process dies; the kernel drops its locks
    holders[0].wait(10)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 6 posts" in result.output
    assert index_ids(app) == post_ids(app)
    assert found(client, "zeppelin") == 1 and found(client, "ordinary") == 5


def no_bigger_files() -> None:
    """In the worker, before it starts: no file may grow (SIGXFSZ ignored, so writes fail with EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_an_index_on_a_full_disk(make_app, database, redis_url, tmp_path):
    from redis import Redis
    from rq import Queue

    queue = f"fault-{uuid.uuid4().hex[:8]}"
    index_dir = tmp_path / "idx"
    app = make_app(create_tables=False, SEARCH_BACKEND="whoosh", WHOOSH_INDEX_DIR=str(index_dir),
                   JOBS_BACKEND="rq", REDIS_URL=redis_url, JOBS_QUEUE=queue)
    with app.app_context():
        upgrade()
    a_small_site(app)
    env = process_env(database, tmp_path, REDIS_URL=redis_url, JOBS_QUEUE=queue, SEARCH_BACKEND="whoosh",
                      WHOOSH_INDEX_DIR=str(index_dir), LOG_LEVEL="WARNING")
    # Its output goes through a pipe: a log file could not grow either.
    worker = start_worker(env, preexec_fn=no_bigger_files, pipe=True)
    try:
        client = app.test_client()
        sign_in_and_post(client, app, "Zeppelin over the harbour")  # indexed by the worker
        # The worker's write fails: the index is marked stale, the rebuild it asks for fails
        # too (the disk is still full), and search says it is being rebuilt.
        try:
            wait_for(lambda: (index_dir / "STALE").exists(), 60, "the failed write", interval=0.1)
        except AssertionError:
            raise AssertionError(f"the worker said:\n{worker_output(worker)[-3000:]}") from None
        assert found(client, "zeppelin") == -1
        assert found(client, "ordinary") == -1
        assert index_ids(app) == post_ids(app) - {max(post_ids(app))}  # the old index is intact
    finally:
        stop_worker(worker, signal.SIGKILL)
        Queue(queue, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)
    # Space again (the limit was the worker's): the rebuild restores exactly the database's posts.
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 6 posts" in result.output
    assert index_ids(app) == post_ids(app)
    assert not (index_dir / "STALE").exists()
    assert found(client, "zeppelin") == 1
