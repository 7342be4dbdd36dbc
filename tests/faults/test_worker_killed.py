"""A worker killed mid-job: the task ends as failed (never stuck "in progress") and can be retried.

A real `flask worker` process (RQ on Redis) runs a user's export; the test kills its process group
with SIGKILL while the export is half written, as the kernel's OOM killer or a lost machine would.
The task's heartbeat stops, so the status the user polls turns to failed; the next worker to start
records the failure; exporting again works.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import TASK_DONE, TASK_FAILED, TASK_QUEUED, TASK_RUNNING, Post, Task
from microblog.services import counters, tasks
from microblog.timeutil import utcnow
from tests.factories import make_user
from tests.faults.processes import (
    kill_worker_and_horse,
    rq_site,
    start_worker,
    stop_worker,
    wait_for,
)

POSTS = 8_000
# Seconds without a heartbeat before a running task counts as dead. Long enough that a work horse
# starved of CPU on a loaded machine (CI runs the suite on every core) is not declared dead alive.
HEARTBEAT_TIMEOUT = 10
BATCH = 10  # rows per query: the export takes long enough to be caught half way


def task_row(app, task_id: str) -> Task:
    with app.app_context():
        task = db.session.get(Task, task_id)
        db.session.expunge(task)
        return task


# Export kind -> its finished files in EXPORTS_DIR, and how many posts a downloaded file holds.
KINDS = {
    "csv": ("posts-*.csv", lambda data: data.decode("utf-8-sig").count("\n") - 1),  # less the header
    "archive": ("archive-*.zip",
                lambda data: len(json.loads(zipfile.ZipFile(io.BytesIO(data)).read("posts.json"))["posts"])),
}


def start_export(client, kind: str) -> str:
    response = client.post(f"/export/{kind}")
    assert response.status_code == 302
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def rq_setup(make_app, database, redis_url, tmp_path):
    with rq_site(make_app, database, redis_url, tmp_path, TASK_HEARTBEAT_TIMEOUT=HEARTBEAT_TIMEOUT,
                 EXPORT_BATCH_SIZE=BATCH) as setup:
        yield setup


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_worker_leaves_a_failed_task_that_can_be_retried(rq_setup, kind):
    app, env, workers = rq_setup
    finished_files, posts_in = KINDS[kind]
    with app.app_context():
        alice = make_user("alice")
        start = utcnow() - timedelta(days=30)
        db.session.execute(sa.insert(Post), [
            {"body": f"post {n}", "user_id": alice.id, "timestamp": start + timedelta(seconds=n)}
            for n in range(POSTS)])
        counters.posts_added(alice.id, POSTS)
        db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    workers.append(start_worker(env))
    task_id = start_export(client, kind)

    # Half way through the export, the worker and its work horse are killed outright.
    def under_way() -> bool:
        task = task_row(app, task_id)
        assert task.status in (TASK_QUEUED, TASK_RUNNING), (
            f"the export ended ({task.status}, {task.progress}%, {task.error}) before it could be killed")
        return task.status == TASK_RUNNING and task.progress >= 5

    wait_for(under_way, 120, "the export to be under way", interval=0.05)
    kill_worker_and_horse(workers[0])
    time.sleep(0.5)  # anything still alive would write progress now
    killed = task_row(app, task_id)
    assert killed.status == TASK_RUNNING and killed.progress < 99, "the export finished before the kill"
    assert not list(Path(app.config["EXPORTS_DIR"]).glob(finished_files)), "no finished file may exist"

    # The user sees it fail once the heartbeat is overdue, without any process left to say so.
    status = wait_for(lambda: (s := client.get(f"/tasks/{task_id}.json").json)["status"] == TASK_FAILED and s,
                      HEARTBEAT_TIMEOUT * 5, "the status to turn failed", interval=0.2)
    assert status["message"] == "The export failed. Please try again later."
    assert status["download_url"] is None
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and 'data-status="failed"' in page.get_data(as_text=True)

    # A worker starting again records the failure at once (its first sweep).
    workers.append(start_worker(env))
    failed = wait_for(lambda: (t := task_row(app, task_id)).status == TASK_FAILED and t, 30,
                      "the new worker to record the failure", interval=0.2)
    assert failed.error == tasks.WORKER_DIED and failed.finished_at is not None

    # Retrying: a new export runs to the end and its file downloads with every post.
    retry_id = start_export(client, kind)
    assert retry_id != task_id
    done = wait_for(lambda: (t := task_row(app, retry_id)).status == TASK_DONE and t, 120,
                    "the retried export to finish", interval=0.2)
    assert done.progress == 100
    download = client.get(f"/export/{retry_id}/download")
    assert download.status_code == 200
    assert posts_in(download.data) == POSTS  # every post
    stop_worker(workers[1])
    # The killed job was not run a second time behind the user's back.
    assert task_row(app, task_id).status == TASK_FAILED
