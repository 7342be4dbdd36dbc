"""Background jobs held back for a while: an app on the in-process jobs engine whose queue waits behind a
gate, so a test can look at (or break) the world between a request and the job it queued."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask

from microblog import jobs

# The gates of the tests running now, by id (a task takes ids, never objects).
_GATES: dict[str, threading.Event] = {}
# Longer than any test waits: a gate never left open still lets the queue go in the end.
GATE_TIMEOUT = 60


@jobs.task
def wait_at_gate(gate_id: str) -> None:
    """Block the queue until the test opens this gate."""
    gate = _GATES.get(gate_id)
    if gate is not None:
        gate.wait(GATE_TIMEOUT)


def run_queued(app: Flask, timeout: float = 30) -> None:
    """Wait until every job queued so far on ``app``'s in-process engine has run."""
    assert app.config["JOBS_BACKEND"] == "thread", "held jobs need JOBS_BACKEND='thread'"
    runner = jobs._thread_runner(app)
    # A job may queue another (processing queues the deletion of the raw upload): wait again until a
    # wait finds nothing new behind it.
    for _ in range(10):
        runner.join(timeout)
        if runner.queue.empty():
            runner.join(timeout)
            if runner.queue.empty():
                return


@contextmanager
def jobs_held(app: Flask) -> Iterator[Callable[[], None]]:
    """Jobs queued inside the block wait until it ends, or until the block calls what this yields
    (``release()``); then they run, and this waits for them."""
    gate_id = uuid.uuid4().hex
    gate = _GATES[gate_id] = threading.Event()
    with app.app_context():
        jobs.enqueue(wait_at_gate, gate_id)

    def release() -> None:
        gate.set()
        run_queued(app)

    try:
        yield release
    finally:
        release()
        del _GATES[gate_id]
