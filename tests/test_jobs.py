"""The job facade: RQ on a real Redis, the in-process thread, and what happens when Redis is down."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.job import Job

from microblog import jobs
from microblog.extensions import db
from microblog.models import OutboxMessage, User
from tests.factories import make_user

CALLS: list[tuple] = []


@jobs.task
def record_call(user_id: int) -> str:
    """A task for these tests: proves it ran inside an app context with the database."""
    user = db.session.get(User, user_id)
    CALLS.append((user_id, user.username))
    return f"hello {user.username}"


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


@pytest.fixture
def rq_app(make_app, redis_url, smtp_server):
    """An app whose jobs go through RQ on Redis, on a queue of its own."""
    return make_app(JOBS_BACKEND="rq", REDIS_URL=redis_url, JOBS_QUEUE=f"test-{uuid.uuid4().hex}",
                    **smtp_server.settings())


def test_unregistered_functions_are_refused(app):
    with app.app_context(), pytest.raises(LookupError):
        jobs.enqueue(print, 1)


def test_rq_job_runs_in_a_burst_worker_and_its_result_is_visible(rq_app):
    with rq_app.app_context():
        user_id = make_user("alice").id
        job_id = jobs.enqueue(record_call, user_id)
        queue = Queue(rq_app.config["JOBS_QUEUE"], connection=jobs.redis_connection(rq_app))
        assert queue.count == 1
        assert CALLS == []  # nothing has run yet: the work waits in Redis
    jobs.run_rq_worker(rq_app, burst=True)
    assert CALLS == [(user_id, "alice")]
    job = Job.fetch(job_id, connection=jobs.redis_connection(rq_app))
    assert job.id == job_id
    assert job.return_value() == "hello alice"
    assert job.timeout == rq_app.config["JOB_TIMEOUT_SECONDS"] == 3600  # not RQ's 3 minutes


def test_mail_travels_through_rq_to_smtp(rq_app, smtp_server):
    client = rq_app.test_client()
    with rq_app.app_context():
        make_user("alice")
        make_user("bob")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    assert client.post("/follow/bob").status_code == 302
    assert smtp_server.inbox == []  # queued, not yet sent
    jobs.run_rq_worker(rq_app, burst=True)
    assert [m["Subject"] for m in smtp_server.inbox] == ["alice is now following you"]
    with rq_app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.status)) == "sent"


def test_redis_down_the_action_succeeds_and_the_work_runs_in_process(make_app, smtp_server, caplog):
    from tests.smtp import free_port

    app = make_app(JOBS_BACKEND="rq", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                   **smtp_server.settings())
    client = app.test_client()
    with app.app_context():
        make_user("alice")
        make_user("bob")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    assert client.post("/follow/bob").status_code == 302
    assert "running it in-process instead" in caplog.text
    app.extensions["jobs_runner"].join()
    assert [m["Subject"] for m in smtp_server.inbox] == ["alice is now following you"]
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.status)) == "sent"


def test_thread_engine_runs_jobs_in_the_background(make_app):
    app = make_app(JOBS_BACKEND="thread")
    with app.app_context():
        user_id = make_user("alice").id
        jobs.enqueue(record_call, user_id)
    app.extensions["jobs_runner"].join()
    assert CALLS == [(user_id, "alice")]


def test_a_failing_task_is_logged_not_raised(app, caplog):
    @jobs.task
    def explode(_: int) -> None:
        raise RuntimeError("boom")

    with app.app_context():
        jobs.enqueue(explode, 1)
    assert "boom" in caplog.text


def test_periodic_work_retries_due_mail(app, monkeypatch):
    tried = []
    monkeypatch.setattr(jobs, "PERIODIC", [lambda: tried.append(1), lambda: 1 / 0])
    with app.app_context():
        jobs.run_periodic()  # a failing periodic function does not stop the others
    assert tried == [1]
