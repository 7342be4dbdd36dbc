"""A worker killed mid-import: a worker started again resumes the import from its pending rows, and
every row is applied exactly once (follows, counters and notifications agree at the end).

A real `flask worker` process (RQ on Redis) runs a following import of many local accounts; the test
kills its process group with SIGKILL half way, as the OOM killer or a lost machine would. The task's
heartbeat stops; the next worker's sweep hands the import to a new job, which continues.
"""

from __future__ import annotations

import io
import time

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import (
    TASK_DONE,
    TASK_QUEUED,
    TASK_RUNNING,
    ImportRow,
    Notification,
    Task,
    User,
    followers,
)
from microblog.services import counters
from tests.factories import DEFAULT_PASSWORD, _hash, make_user
from tests.faults.processes import (
    kill_worker_and_horse,
    rq_site,
    start_worker,
    stop_worker,
    wait_for,
    worker_output,
)

PEOPLE = 1_500
HEARTBEAT_TIMEOUT = 10  # as test_worker_killed.py: a starved work horse must not pass for dead
BATCH = 5


def task_row(app, task_id: str) -> Task:
    with app.app_context():
        task = db.session.get(Task, task_id)
        db.session.expunge(task)
        return task


@pytest.fixture
def rq_setup(make_app, database, redis_url, tmp_path):
    with rq_site(make_app, database, redis_url, tmp_path, TASK_HEARTBEAT_TIMEOUT=HEARTBEAT_TIMEOUT,
                 IMPORT_BATCH_SIZE=BATCH) as setup:
        yield setup


def test_a_killed_import_resumes_and_applies_every_row_once(rq_setup):
    app, env, workers = rq_setup
    with app.app_context():
        alice = make_user("alice")
        password = _hash(DEFAULT_PASSWORD)
        db.session.execute(sa.insert(User), [
            {"username": f"person{n}", "email": f"person{n}@example.com", "password_hash": password,
             "notify_new_follower": False} for n in range(PEOPLE)])
        db.session.commit()
        alice_id = alice.id
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    workers.append(start_worker(env, pipe=True))
    content = "".join(f"person{n}@microblog.test\n" for n in range(PEOPLE)).encode()
    response = client.post("/settings/import", data={
        "kind": "following", "mode": "merge", "file": (io.BytesIO(content), "following_accounts.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    task_id = response.headers["Location"].rsplit("/", 1)[-1]

    def under_way() -> bool:
        task = task_row(app, task_id)
        assert task.status in (TASK_QUEUED, TASK_RUNNING), (
            f"the import ended ({task.status}, {task.progress}%, {task.error}) before it could be killed")
        return task.status == TASK_RUNNING and task.progress >= 5

    try:
        wait_for(under_way, 120, "the import to be under way", interval=0.05)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the worker said:\n{worker_output(workers[0])}") from None
    kill_worker_and_horse(workers[0])
    time.sleep(0.5)  # anything still alive would write now
    with app.app_context():
        pending = db.session.scalar(sa.select(sa.func.count()).where(
            ImportRow.task_id == task_id, ImportRow.state == "pending"))
        assert not db.session.scalar(sa.select(sa.func.count()).where(ImportRow.state == "skipped"))
        follows = db.session.scalar(sa.select(sa.func.count()).select_from(followers))
    assert 0 < pending < PEOPLE, "the import was not caught half way"
    # Each applied row was recorded with its follow, in one commit: none is half done.
    assert follows == PEOPLE - pending
    killed = task_row(app, task_id)
    assert killed.status == TASK_RUNNING

    # The user sees that it will resume, not a failure.
    def resuming():
        status = client.get(f"/settings/import/{task_id}.json").json
        return "resume" in status["message"] and status

    status = wait_for(resuming, HEARTBEAT_TIMEOUT * 5, "the status to say it will resume", interval=0.2)
    assert status["status"] == "running"

    # A worker starting again resumes it (its first sweep), and the import runs to the end.
    workers.append(start_worker(env))
    done = wait_for(lambda: (t := task_row(app, task_id)).status == TASK_DONE and t, 180,
                    "the resumed import to finish", interval=0.2)
    assert done.progress == 100
    stop_worker(workers[1])
    with app.app_context():
        states = dict(db.session.execute(
            sa.select(ImportRow.state, sa.func.count()).where(ImportRow.task_id == task_id)
            .group_by(ImportRow.state)).tuples().all())
        assert states == {"done": PEOPLE}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == PEOPLE
        # One new-follower notification per follow: no row was applied twice.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                 .where(Notification.actor_id == alice_id)) == PEOPLE
        stored = dict(db.session.execute(sa.select(User.id, User.follower_count)).tuples().all())
        following = db.session.get(User, alice_id).following_count
        counters.recount()
        db.session.expire_all()
        assert dict(db.session.execute(sa.select(User.id, User.follower_count)).tuples().all()) == stored
        assert db.session.get(User, alice_id).following_count == following == PEOPLE
    status = client.get(f"/settings/import/{task_id}.json").json
    assert status["counts"] == {"total": PEOPLE, "imported": PEOPLE, "skipped": 0, "pending": 0}
