"""Background jobs: one facade, two engines (RQ on Redis, or a worker thread in this process).

Tasks are plain functions registered with ``@task`` that take ids, not ORM objects. ``enqueue``
never raises into the caller: the user's action has already been committed, so a queue that is
down is logged and the work runs in-process instead of being dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

TASKS: dict[str, Callable[..., Any]] = {}
# Work the worker does every PERIODIC_SECONDS whatever the queue holds (for example, mail retries).
PERIODIC: list[Callable[[], Any]] = []
PERIODIC_SECONDS = 30
# Held by a worker's periodic thread while it runs, and by the worker while it forks a work horse.
_periodic_lock = threading.Lock()

# The app of a `flask worker` process; RQ calls run_task without an app context.
_worker_app: Flask | None = None


def task(func: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``func`` as a background task under its qualified name."""
    TASKS[_name(func)] = func
    return func


def periodic(func: Callable[[], Any]) -> Callable[[], Any]:
    """Register ``func`` to run regularly in every worker (it must be safe to run concurrently)."""
    PERIODIC.append(func)
    return func


def _name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def enqueue(func: Callable[..., Any], *args: Any, job_id: str | None = None) -> str:
    """Run registered task ``func(*args)`` in the background and return the job's id."""
    name = _name(func)
    if name not in TASKS:
        raise LookupError(f"{name} is not a registered task")
    job_id = job_id or uuid.uuid4().hex
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    backend = app.config["JOBS_BACKEND"]
    if backend == "rq":
        try:
            _rq_queue(app).enqueue(run_task, name, *args, job_id=job_id, result_ttl=24 * 3600,
                                   job_timeout=app.config["JOB_TIMEOUT_SECONDS"])
            return job_id
        except Exception:  # noqa: BLE001 - any Redis failure: run here rather than lose the work
            log.exception("could not enqueue %s on Redis; running it in-process instead", name)
            backend = "thread"
    if backend == "sync":
        _run_isolated(app, name, args)
    else:
        _thread_runner(app).submit(name, args)
    return job_id


def run_task(name: str, *args: Any) -> Any:
    """Entry point for every engine: run task ``name`` inside an app context."""
    func = TASKS[name]
    if has_app_context():
        return func(*args)
    if _worker_app is None:
        raise RuntimeError("no app: start workers with `flask worker`")
    with _worker_app.app_context():
        return func(*args)


def run_periodic() -> None:
    """Run every periodic function once, logging (not raising) their failures."""
    for func in PERIODIC:
        try:
            func()
        except Exception:  # noqa: BLE001 - one failing sweep must not stop the worker
            log.exception("periodic task %s failed", _name(func))


def _run_isolated(app: Flask, name: str, args: tuple) -> None:
    """Run a task now, in a fresh app context (its own DB session), without raising."""
    try:
        with app.app_context():
            run_task(name, *args)
    except Exception:  # noqa: BLE001 - a failed side effect must not fail the request
        log.exception("task %s%r failed", name, args)


# -- RQ engine -----------------------------------------------------------------------------
def redis_connection(app: Flask):
    from redis import Redis

    if "redis" not in app.extensions:
        app.extensions["redis"] = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
        )
    return app.extensions["redis"]


def _rq_queue(app: Flask):
    from rq import Queue

    return Queue(app.config["JOBS_QUEUE"], connection=redis_connection(app))


def run_rq_worker(app: Flask, burst: bool = False) -> None:
    """Work the RQ queue with ``app`` as every job's app (used by `flask worker` and tests)."""
    from rq import SimpleWorker

    global _worker_app
    _worker_app = app
    worker_class = SimpleWorker if burst else _forking_worker_class()
    worker = worker_class([_rq_queue(app)], connection=redis_connection(app))
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_periodic_loop, args=(app, stop), daemon=True, name="periodic").start()
    try:
        worker.work(burst=burst, with_scheduler=not burst)
    finally:
        stop.set()


def _forking_worker_class():
    """RQ's Worker, which forks a work horse per job; the horse first lets go of the database
    connections it inherited. Parent and horse would otherwise talk over the same sockets while the
    parent's periodic thread uses them, and PostgreSQL jobs failed ("connection in transaction
    status INTRANS"): found by tests/deploy/test_procfile.py."""
    from rq import Worker

    class AppWorker(Worker):
        def fork_work_horse(self, job, queue):
            # Never fork while the periodic thread is in the middle of its work: the horse would
            # inherit whatever lock that thread held at that instant (the connection pool's, a
            # driver's) with no thread left to release it, and hang on its first query. Seen in the
            # fault tests as a job that never started, most often right at start-up, when the first
            # job and the first periodic run begin together.
            with _periodic_lock:
                super().fork_work_horse(job, queue)

        def main_work_horse(self, job, queue):
            _forget_inherited_connections()
            super().main_work_horse(job, queue)

    return AppWorker


def _forget_inherited_connections() -> None:
    from microblog.extensions import db

    if _worker_app is not None:
        with _worker_app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)  # close=False: the sockets stay open for the parent


def _periodic_loop(app: Flask, stop: threading.Event) -> None:
    # At once on start, then regularly: a worker that starts (after a crash, a deploy) first fails
    # the tasks of workers that died and sends the mail that is due.
    while True:
        with _periodic_lock, app.app_context():
            run_periodic()
        if stop.wait(PERIODIC_SECONDS):
            return


# -- in-process engine -----------------------------------------------------------------------
class ThreadRunner:
    """One daemon thread per app that runs queued tasks in order, and the periodic work."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[tuple[str, tuple] | threading.Event] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="microblog-jobs")
        self.thread.start()

    def submit(self, name: str, args: tuple) -> None:
        self.queue.put((name, args))

    def join(self, timeout: float = 10.0) -> None:
        """Wait until everything submitted so far has run (tests, shutdown)."""
        marker = threading.Event()
        self.queue.put(marker)
        marker.wait(timeout)

    def _loop(self) -> None:
        while True:
            try:
                item = self.queue.get(timeout=PERIODIC_SECONDS)
            except queue.Empty:
                with self.app.app_context():
                    run_periodic()
                continue
            if isinstance(item, threading.Event):
                item.set()
            else:
                _run_isolated(self.app, *item)


_runners_lock = threading.Lock()


def _thread_runner(app: Flask) -> ThreadRunner:
    with _runners_lock:
        runner = app.extensions.get("jobs_runner")
        if runner is None:
            runner = app.extensions["jobs_runner"] = ThreadRunner(app)
        return runner
