"""Delivery: rows per inbox (shared inboxes deduplicated), signed POSTs to a real server on 127.0.0.1,
retries with backoff, failures for good, a server down for days, the periodic sweep, blocked servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.federation import delivery, httpsig
from microblog.models import Delivery, DeliveryStatus, Instance, User, followers
from microblog.services import posts
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_user
from tests.federation.delivery_peer import Peer
from tests.statements import counting


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


def _deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Delivery).order_by(Delivery.id)))


def _instance(domain: str) -> Instance | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Instance).where(Instance.domain == domain))


def _alice_followed_by(peer: Peer, *names: str, shared: bool = True) -> User:
    alice = make_user("alice")
    for name in names:
        make_follow(peer.remote_user(name, shared=shared), alice)
    return alice


def _due_now(*rows: Delivery) -> None:
    """Move time on: the rows' next attempt is now due."""
    for row in rows:
        db.session.execute(sa.update(Delivery).where(Delivery.id == row.id)
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_post_is_delivered_signed_to_a_remote_follower(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        post = posts.publish_post(alice, "Hello, fediverse")
        [row] = _deliveries()
        alice = db.session.get(User, alice.id)
        assert row.status == DeliveryStatus.SENT and row.attempts == 1 and row.sent_at is not None
        assert row.inbox_url == f"{peer.base}/inbox" and row.domain == peer.domain
        [received] = peer.received
        assert received.path == "/inbox"
        received.verify(alice.public_key_pem)
        assert received.headers["signature"].startswith('keyId="http://microblog.test/user/alice#main-key"')
        activity = received.activity
        assert activity["type"] == "Create" and activity["actor"] == "http://microblog.test/user/alice"
        assert activity["id"] == f"http://microblog.test/activities/create/{post.id}"
        assert activity["object"]["id"] == f"http://microblog.test/post/{post.id}"
        assert "Hello, fediverse" in activity["object"]["content"]
        assert activity["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
        assert activity["@context"][0] == "https://www.w3.org/ns/activitystreams"
        assert _instance(peer.domain).last_success_at is not None


def test_a_forged_body_does_not_verify(app, peer):
    """The server-side check used above can fail: a body changed in transit is refused."""
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        posts.publish_post(alice, "original")
        [received] = peer.received
        received.body = received.body.replace(b"original", b"forged!!")
        with pytest.raises(httpsig.SignatureError):
            received.verify(db.session.get(User, alice.id).public_key_pem)


def test_followers_on_one_server_share_one_delivery(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob", "carol", "dave")
        lone = peer.remote_user("erin", shared=False)  # a server without a shared inbox: her own
        make_follow(lone, alice)
        make_follow(make_user("local_fan"), alice)  # local followers need no delivery
        expected = [f"{peer.base}/inbox", f"{peer.base}/users/erin/inbox"]
        assert delivery.inboxes_for_followers(alice) == expected
        posts.publish_post(alice, "to everyone")
        assert sorted(row.inbox_url for row in _deliveries()) == [f"{peer.base}/inbox",
                                                                  f"{peer.base}/users/erin/inbox"]
        assert sorted(item.path for item in peer.received) == ["/inbox", "/users/erin/inbox"]


def test_followers_inboxes_are_one_query_for_many_followers(app, peer):
    with app.app_context():
        alice = make_user("alice")
        hosts = [f"host{n}.example" for n in range(10)]
        db.session.add_all(User(username=f"f{n}@{hosts[n % 10]}", email=f"f{n}@remote.invalid",
                                password_hash="!", domain=hosts[n % 10],
                                actor_uri=f"https://{hosts[n % 10]}/users/f{n}",
                                inbox_url=f"https://{hosts[n % 10]}/users/f{n}/inbox",
                                shared_inbox_url=f"https://{hosts[n % 10]}/inbox") for n in range(300))
        db.session.commit()
        ids = db.session.scalars(sa.select(User.id).where(User.domain.is_not(None))).all()
        db.session.execute(sa.insert(followers), [{"follower_id": i, "followed_id": alice.id} for i in ids])
        db.session.commit()
        db.session.refresh(alice)
        with counting(app) as statements:
            inboxes = delivery.inboxes_for_followers(alice)
        assert inboxes == sorted(f"https://{host}/inbox" for host in hosts)
        assert len(statements) == 1


def test_a_server_answering_503_is_retried_with_backoff_until_it_is_back(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        peer.status = 503
        before = utcnow()
        posts.publish_post(alice, "are you there?")
        [row] = _deliveries()
        assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.last_error == "HTTP 503"
        assert before + timedelta(seconds=55) < row.next_attempt_at < utcnow() + timedelta(seconds=65)
        failing_since = _instance(peer.domain).failing_since
        assert failing_since is not None
        # Not due yet: the sweep leaves it alone.
        assert delivery.retry_due_deliveries() == 0
        assert len(peer.received) == 1

        _due_now(row)
        assert delivery.retry_due_deliveries() == 1
        [row] = _deliveries()
        assert row.attempts == 2 and row.status == DeliveryStatus.PENDING
        assert row.next_attempt_at > utcnow() + timedelta(seconds=290)  # the second wait is longer
        assert _instance(peer.domain).failing_since == failing_since  # the same run of failures

        peer.status = 202
        _due_now(row)
        assert delivery.retry_due_deliveries() == 1
        [row] = _deliveries()
        assert row.status == DeliveryStatus.SENT and row.attempts == 3 and row.last_error is None
        assert len(peer.received) == 3
        assert [item.activity["id"] for item in peer.received] == [peer.received[0].activity["id"]] * 3
        instance = _instance(peer.domain)
        assert instance.failing_since is None and instance.last_success_at is not None


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_transient_answers_are_retried(app, peer, status):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        peer.status = status
        posts.publish_post(alice, "hello")
        [row] = _deliveries()
        assert row.status == DeliveryStatus.PENDING and row.last_error == f"HTTP {status}"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_refusals_fail_for_good(app, peer, status):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        peer.status = status
        posts.publish_post(alice, "hello")
        [row] = _deliveries()
        assert row.status == DeliveryStatus.FAILED and row.attempts == 1
        assert row.last_error == f"HTTP {status}"
        _due_now(row)
        assert delivery.retry_due_deliveries() == 0
        assert len(peer.received) == 1
        assert _instance(peer.domain).failing_since is None  # the server answered: it is not down


def test_a_server_that_cannot_be_reached_is_retried(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        peer.stop()  # nothing listens on its port any more
        posts.publish_post(alice, "anyone?")
        [row] = _deliveries()
        assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.last_error
        assert _instance(peer.domain).failing_since is not None


def test_a_server_down_for_days_is_unavailable_and_its_deliveries_wait(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        db.session.add(Instance(domain=peer.domain, failing_since=utcnow() - timedelta(days=2, hours=1)))
        db.session.commit()
        peer.status = 503
        posts.publish_post(alice, "first")
        instance = _instance(peer.domain)
        assert instance.unavailable_until is not None
        assert instance.unavailable_until > utcnow() + timedelta(hours=23)
        [first] = _deliveries()
        assert first.status == DeliveryStatus.PENDING and first.next_attempt_at == instance.unavailable_until

        # While it is unavailable, new deliveries wait for it without trying.
        posts.publish_post(alice, "second")
        first, second = _deliveries()
        assert len(peer.received) == 1
        assert second.status == DeliveryStatus.PENDING and second.attempts == 0
        assert second.next_attempt_at == instance.unavailable_until
        _due_now(second)  # even a row that comes due waits
        delivery.retry_due_deliveries()
        assert len(peer.received) == 1
        assert _deliveries()[1].next_attempt_at == instance.unavailable_until

        # A day later it is back: everything waiting goes, in order, and it is available again.
        peer.status = 202
        db.session.execute(sa.update(Instance).where(Instance.domain == peer.domain)
                           .values(unavailable_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        _due_now(first, second)
        assert delivery.retry_due_deliveries() == 2
        assert [row.status for row in _deliveries()] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
        assert [item.activity["object"]["content"] for item in peer.received[1:]] == ["<p>first</p>",
                                                                                      "<p>second</p>"]
        instance = _instance(peer.domain)
        assert instance.unavailable_until is None and instance.failing_since is None


def test_a_delivery_is_given_up_after_three_days(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        peer.status = 503
        posts.publish_post(alice, "hello")
        [row] = _deliveries()
        db.session.execute(sa.update(Delivery).where(Delivery.id == row.id)
                           .values(created_at=utcnow() - timedelta(days=3), attempts=9,
                                   next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        delivery.retry_due_deliveries()
        [row] = _deliveries()
        assert row.status == DeliveryStatus.FAILED and row.last_error == "HTTP 503"


def test_rows_left_sending_by_a_dead_worker_are_sent_again(app, peer):
    with app.app_context():
        alice = make_user("alice")
        bob = peer.remote_user("bob")
        db.session.add(Delivery(inbox_url=bob.inbox_url, domain=peer.domain, sender_id=alice.id,
                                activity=json.dumps({"type": "Create", "id": "x"}),
                                status=DeliveryStatus.SENDING,
                                next_attempt_at=utcnow() - timedelta(minutes=16)))
        db.session.add(Delivery(inbox_url=bob.inbox_url, domain=peer.domain, sender_id=alice.id,
                                activity=json.dumps({"type": "Create", "id": "y"}),
                                status=DeliveryStatus.SENDING,
                                next_attempt_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
        assert delivery.retry_due_deliveries() == 1
        stale, busy = _deliveries()
        assert stale.status == DeliveryStatus.SENT
        assert busy.status == DeliveryStatus.SENDING  # its worker may still be at it
        assert [item.activity["id"] for item in peer.received] == ["x"]


def test_a_delivery_is_sent_once(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        posts.publish_post(alice, "once")
        [row] = _deliveries()
        assert delivery.send_delivery(row.id) == "skipped"
        assert delivery.retry_due_deliveries() == 0
        assert len(peer.received) == 1


def test_a_blocked_server_gets_nothing(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        db.session.add(Instance(domain=peer.domain, blocked_at=utcnow()))
        db.session.commit()
        posts.publish_post(alice, "not for them")
        assert _deliveries() == [] and peer.received == []


def test_a_server_blocked_after_queueing_gets_nothing(app, peer):
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        peer.status = 503
        posts.publish_post(alice, "hello")
        db.session.execute(sa.update(Instance).where(Instance.domain == peer.domain)
                           .values(blocked_at=utcnow()))
        db.session.commit()
        peer.status = 202
        [row] = _deliveries()
        _due_now(row)
        delivery.retry_due_deliveries()
        [row] = _deliveries()
        assert row.status == DeliveryStatus.FAILED and len(peer.received) == 1


def test_inboxes_are_deduplicated_and_our_own_left_out(app, peer):
    with app.app_context():
        alice = make_user("alice")
        ids = delivery.enqueue_activity({"type": "Create", "id": "http://microblog.test/activities/x"}, alice,
                                        [f"{peer.base}/inbox", f"{peer.base}/inbox", "",
                                         "http://microblog.test/inbox", "http://MICROBLOG.test/user/bob/inbox"])
        assert len(ids) == 1
        assert [row.inbox_url for row in _deliveries()] == [f"{peer.base}/inbox"]
        assert delivery.enqueue_activity({"type": "Create"}, alice, []) == []


def test_a_local_only_site_writes_nothing(app, peer):
    with app.app_context():
        alice = make_user("alice")
        make_follow(make_user("fan"), alice)
        with counting(app) as statements:
            posts.publish_post(alice, "hello @fan")
        assert _deliveries() == []
        federation = [s for s in statements if "domain IS NOT NULL" in s]
        assert len(federation) == 1  # the one question: is anyone remote to hear of it?


def test_nothing_is_sent_when_federation_is_off(make_app, peer):
    app = make_app(FEDERATION_ENABLED=False)
    with app.app_context():
        alice = _alice_followed_by(peer, "bob")
        posts.publish_post(alice, "hello")
        assert _deliveries() == [] and peer.received == []
