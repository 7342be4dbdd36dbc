"""Real processes for fault tests: the environment a deployed process gets, and gunicorn or flask runs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.servers import BIN, ROOT, production_env


def database_url(database: dict) -> str:
    """The ``DATABASE_URL`` for the ``database`` fixture's settings (a PostgreSQL schema rides along)."""
    url = database["SQLALCHEMY_DATABASE_URI"]
    schema = database.get("TEST_SCHEMA")
    if schema:
        url += ("&" if "?" in url else "?") + "options=" + urllib.parse.quote(f"-csearch_path={schema}")
    return url


def process_env(database: dict, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment variables for a production process on this test's database, in ``tmp_path``."""
    return production_env(database_url(database), tmp_path / "instance", **extra)


def shared_search_index(app) -> dict[str, str]:
    """Build ``app``'s (empty) search index now and return the setting that points a worker at it.

    Without an index, the first job that indexes something asks for a rebuild of the whole index,
    which the worker then runs before anything else: on a loaded machine, minutes of a fault test.
    """
    from microblog import search

    with app.app_context():
        search.reindex()
    return {"WHOOSH_INDEX_DIR": app.config["WHOOSH_INDEX_DIR"]}


@contextlib.contextmanager
def rq_site(make_app, database: dict, redis_url: str, tmp_path: Path, **settings: Any) -> Iterator[tuple]:
    """(app, worker environment, workers): an app on a migrated database with an RQ queue of its own,
    a search index the workers share, and ``settings`` in both; the workers the test starts (put them
    in the list) are killed and the queue deleted at the end."""
    from flask_migrate import upgrade
    from redis import Redis
    from rq import Queue

    queue = f"fault-{uuid.uuid4().hex[:8]}"
    app = make_app(create_tables=False, JOBS_BACKEND="rq", REDIS_URL=redis_url, JOBS_QUEUE=queue, **settings)
    with app.app_context():
        upgrade()
    index = shared_search_index(app)  # the worker's index: no rebuild of the whole site comes first
    env = process_env(database, tmp_path, **index, REDIS_URL=redis_url, JOBS_QUEUE=queue, LOG_LEVEL="WARNING",
                      SITE_URL=app.config["SITE_URL"], **{key: str(value) for key, value in settings.items()})
    workers: list[subprocess.Popen] = []
    try:
        yield app, env, workers
    finally:
        for worker in workers:
            stop_worker(worker, signal.SIGKILL)
        Queue(queue, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)


def flask(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``flask --app microblog ARGS`` as the Procfile does."""
    return subprocess.run([str(BIN / "flask"), "--app", "microblog", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def start_worker(env: dict[str, str], preexec_fn=None, pipe: bool = False) -> subprocess.Popen:
    """`flask worker` in a session of its own, its output in the instance folder's worker.log
    (or, with ``pipe``, in a pipe whose text the caller reads with :func:`worker_output`)."""
    Path(env["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    command = [str(BIN / "flask"), "--app", "microblog", "worker"]
    if pipe:
        worker = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=preexec_fn, text=True,
        )
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True).start()
        worker.output = lines  # type: ignore[attr-defined]
        return worker
    with open(Path(env["INSTANCE_DIR"]) / "worker.log", "a") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=preexec_fn)


def worker_output(worker: subprocess.Popen) -> str:
    return "".join(getattr(worker, "output", []))


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (RQ's work horse, which runs in a group of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def kill_worker_and_horse(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and the work horse running the job, as a lost machine would."""
    horses = children(worker.pid)
    assert horses, "the worker has no work horse: the job is not running"
    for pid in horses:
        os.kill(pid, signal.SIGKILL)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)


def stop_worker(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    horses = list(children(worker.pid))
    for pid in horses:  # a horse left running (a failed test) goes too
        if sig == signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(pid, sig)
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    # A horse killed in the middle of a system call finishes that call first: wait until it is
    # gone, so nothing it was writing (an index file, the STALE mark) lands after this returns.
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in horses), 10,
             "the worker's horses to end")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has stopped; it only waits to be reaped


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
