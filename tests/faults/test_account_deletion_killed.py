"""A worker killed in the middle of deleting an account: a worker started later finishes the deletion.

A real `flask worker` process (RQ on Redis) picks up a due deletion on its first sweep and deletes
the account's many posts a small batch at a time; the test kills it with SIGKILL half way, as a lost
machine would. The batches already committed stay done, the account stays (deactivated, its
deletion started) and nobody can sign in to it. Once the dead worker's lease runs out, a new worker's
first sweep hands the account on and the deletion runs to the end: no post left, the name reserved,
the follower's count right.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post, ReservedUsername, User
from microblog.services import counters
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_user
from tests.faults.processes import (
    kill_worker_and_horse,
    rq_site,
    start_worker,
    stop_worker,
    wait_for,
    worker_output,
)

POSTS = 8_000
BATCH = 2  # rows per committed batch: the deletion takes long enough to be caught half way
LEASE = 4  # seconds a worker holds the deletion (renewed every batch)


@pytest.fixture
def rq_setup(make_app, database, redis_url, tmp_path):
    with rq_site(make_app, database, redis_url, tmp_path, ACCOUNT_DELETION_BATCH_SIZE=BATCH,
                 ACCOUNT_DELETION_LEASE_SECONDS=LEASE) as setup:
        yield setup


def state(app, user_id: int) -> tuple[User | None, int]:
    """The account row (detached, or None when gone) and how many posts it has left."""
    with app.app_context():
        user = db.session.get(User, user_id)
        if user is not None:
            db.session.expunge(user)
        left = db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.user_id == user_id))
        return user, left


def test_a_deletion_killed_half_way_is_finished_by_the_next_worker(rq_setup):
    app, env, workers = rq_setup
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        start = utcnow() - timedelta(days=60)
        db.session.execute(sa.insert(Post), [
            {"body": f"post {n}", "user_id": alice.id, "timestamp": start + timedelta(seconds=n)}
            for n in range(POSTS)])
        counters.posts_added(alice.id, POSTS)
        make_follow(bob, alice)
        # Asked for 31 days ago: the grace period is over.
        alice.deactivated_at = utcnow() - timedelta(days=31)
        alice.deletion_due_at = utcnow() - timedelta(days=1)
        db.session.commit()
        alice_id, bob_id = alice.id, bob.id

    workers.append(start_worker(env))  # its first sweep hands the deletion out at once

    def under_way() -> bool:
        user, left = state(app, alice_id)
        assert user is not None and left > 0, "the deletion finished before it could be killed"
        return left <= POSTS - 20 * BATCH

    wait_for(under_way, 120, "the deletion to be under way", interval=0.05)
    kill_worker_and_horse(workers[0])
    time.sleep(0.5)  # anything still alive would write now
    user, left = state(app, alice_id)
    assert user is not None and user.deletion_started_at is not None
    assert 0 < left < POSTS, "the deletion was not interrupted half way"
    # Half deleted, the account cannot be signed in to (nor its deletion cancelled).
    client = app.test_client()
    refused = client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    assert refused.status_code == 200 and "Invalid username or password." in refused.get_data(as_text=True)

    time.sleep(LEASE + 0.5)  # the dead worker's lease runs out
    # The new worker takes bigger batches: the rest goes at a realistic pace on a loaded machine.
    workers.append(start_worker({**env, "ACCOUNT_DELETION_BATCH_SIZE": "500"}, pipe=True))
    try:
        wait_for(lambda: state(app, alice_id)[0] is None, 180, "the new worker to finish the deletion",
                 interval=0.2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {state(app, alice_id)[1]} posts left; the worker said:\n"
                             f"{worker_output(workers[1])}") from None
    stop_worker(workers[1])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)
                                 .where(Post.user_id == alice_id)) == 0
        assert db.session.get(ReservedUsername, "alice") is not None
        bob = db.session.get(User, bob_id)
        assert (bob.following_count, bob.follower_count) == (0, 0)
