"""The follower graph across servers: Follow, Accept, Reject, Undo of a Follow and Block received in a
personal inbox (signed, as a remote server sends them; jobs run at once in tests, so the handler has run
when the POST returns), and local follows of remote accounts waiting for their server's answer."""

from __future__ import annotations

import itertools
import json

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.federation import httpsig, keys
from microblog.models import FollowRequest, InboxActivity, User, followers
from microblog.services import blocks, follow_requests, follows
from tests.factories import make_user

SITE = "http://microblog.test"
_numbers = itertools.count(1)
_key_pairs: dict[str, tuple[str, str]] = {}


def _key_pair(name: str) -> tuple[str, str]:
    # RSA key generation is slow: each remote actor's name has one pair for all the tests.
    if name not in _key_pairs:
        _key_pairs[name] = keys.generate_key_pair()
    return _key_pairs[name]


class Remote:
    """A remote actor: its row here, and its private key to sign with."""

    def __init__(self, name: str = "bob", domain: str = "remote.example") -> None:
        self.private, public = _key_pair(name)
        self.actor_uri = f"https://{domain}/users/{name}"
        self.key_id = self.actor_uri + "#main-key"
        user = make_user(f"{name}@{domain}", domain=domain, actor_uri=self.actor_uri, key_id=self.key_id,
                         public_key_pem=public, inbox_url=self.actor_uri + "/inbox",
                         email=f"r{next(_numbers)}@remote.invalid", notify_new_follower=False)
        self.id = user.id
        self.serial = itertools.count(1)

    def activity(self, kind: str, obj: object, **extra: object) -> dict:
        return {"@context": "https://www.w3.org/ns/activitystreams", "type": kind,
                "id": f"{self.actor_uri}#{kind.lower()}-{next(self.serial)}", "actor": self.actor_uri,
                "object": obj, **extra}

    def send(self, client, username: str, activity: dict, *, key_id: str | None = None,
             private: str | None = None):
        body = json.dumps(activity).encode()
        path = f"/user/{username}/inbox"
        headers = httpsig.sign_request("POST", SITE + path, key_id=key_id or self.key_id,
                                       private_pem=private or self.private, body=body)
        return client.post(path, data=body, headers=headers)


def actor(username: str) -> str:
    return f"{SITE}/user/{username}"


def follows_(follower_id: int, followed_id: int) -> bool:
    query = sa.select(followers.c.follower_id).where(followers.c.follower_id == follower_id,
                                                     followers.c.followed_id == followed_id)
    return db.session.scalar(sa.select(sa.exists(query))) or False


def counts(user_id: int) -> tuple[int, int]:
    user = db.session.get(User, user_id)
    db.session.refresh(user)
    return user.follower_count, user.following_count


def requests_between(follower_id: int, followed_id: int) -> list[FollowRequest]:
    return list(db.session.scalars(sa.select(FollowRequest).where(FollowRequest.follower_id == follower_id,
                                                                  FollowRequest.followed_id == followed_id)))


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


@pytest.fixture
def bob(app):
    with app.app_context():
        return Remote()


def test_follow_of_an_open_account_makes_the_follow(app, client, alice, bob):
    response = bob.send(client, "alice", bob.activity("Follow", actor("alice")))
    assert response.status_code == 202
    with app.app_context():
        assert follows_(bob.id, alice)
        assert counts(alice) == (1, 0)
        assert counts(bob.id) == (0, 1)
        assert requests_between(bob.id, alice) == []
        assert db.session.scalar(sa.select(InboxActivity.state)) == "done"


def test_follow_again_changes_nothing_and_the_same_activity_is_processed_once(app, client, alice, bob):
    follow = bob.activity("Follow", actor("alice"))
    assert bob.send(client, "alice", follow).status_code == 202
    assert bob.send(client, "alice", follow).status_code == 202  # a retry of the same delivery
    assert bob.send(client, "alice", bob.activity("Follow", actor("alice"))).status_code == 202  # a new id
    with app.app_context():
        assert counts(alice) == (1, 0)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxActivity)) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 1


def test_follow_of_a_locked_account_is_a_request(app, client, alice, bob):
    with app.app_context():
        db.session.get(User, alice).locked = True
        db.session.commit()
    follow = bob.activity("Follow", {"id": actor("alice"), "type": "Person"})
    assert bob.send(client, "alice", follow).status_code == 202
    with app.app_context():
        assert not follows_(bob.id, alice)
        [request] = requests_between(bob.id, alice)
        assert request.activity_uri == follow["id"]
        assert counts(alice) == (0, 0)
        owner = db.session.get(User, alice)
        follow_requests.approve(owner, request.id)
        assert follows_(bob.id, alice)
        assert counts(alice) == (1, 0)
        assert requests_between(bob.id, alice) == []


def test_follow_from_someone_the_account_blocked_is_refused(app, client, alice, bob):
    with app.app_context():
        blocks.block_user(db.session.get(User, alice), db.session.get(User, bob.id))
    assert bob.send(client, "alice", bob.activity("Follow", actor("alice"))).status_code == 202
    with app.app_context():
        assert not follows_(bob.id, alice)
        assert requests_between(bob.id, alice) == []
        assert counts(alice) == (0, 0)


def test_follow_of_something_not_ours_is_ignored(app, client, alice, bob):
    elsewhere = bob.activity("Follow", "https://elsewhere.example/users/x")
    assert bob.send(client, "alice", elsewhere).status_code == 202
    assert bob.send(client, "alice", bob.activity("Follow", actor("nobody"))).status_code == 202
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 0
        assert set(db.session.scalars(sa.select(InboxActivity.state))) == {"done"}


def test_a_follow_signed_by_another_actors_key_is_refused(app, client, alice, bob):
    with app.app_context():
        carol = Remote("carol", "other.example")
    # Carol's server signs a Follow that says bob sent it.
    response = carol.send(client, "alice", bob.activity("Follow", actor("alice")))
    assert response.status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxActivity)) == 0
        assert not follows_(bob.id, alice)


def test_undo_follow_ends_the_follow(app, client, alice, bob):
    follow = bob.activity("Follow", actor("alice"))
    bob.send(client, "alice", follow)
    assert bob.send(client, "alice", bob.activity("Undo", follow)).status_code == 202
    with app.app_context():
        assert not follows_(bob.id, alice)
        assert counts(alice) == (0, 0)
        assert counts(bob.id) == (0, 0)


def test_undo_follow_withdraws_a_pending_request(app, client, alice, bob):
    with app.app_context():
        db.session.get(User, alice).locked = True
        db.session.commit()
    follow = bob.activity("Follow", actor("alice"))
    bob.send(client, "alice", follow)
    bob.send(client, "alice", bob.activity("Undo", dict(follow, object=None)))  # found by the Follow's id
    with app.app_context():
        assert requests_between(bob.id, alice) == []
        assert counts(alice) == (0, 0)


def test_undo_of_someone_elses_follow_changes_nothing(app, client, alice, bob):
    with app.app_context():
        carol = Remote("carol", "other.example")
    follow = bob.activity("Follow", actor("alice"))
    bob.send(client, "alice", follow)
    carol.send(client, "alice", carol.activity("Undo", follow))
    with app.app_context():
        assert follows_(bob.id, alice)


def _local_follow_of(app, follower_id: int, remote_id: int) -> str:
    """``follower_id`` follows the remote account through the service; the Follow's id."""
    with app.app_context():
        follower, remote = db.session.get(User, follower_id), db.session.get(User, remote_id)
        assert follows.follow(follower, remote) is True
        assert follow_requests.is_pending(follower, remote)
        [request] = requests_between(follower_id, remote_id)
        assert request.activity_uri.startswith(f"{SITE}/activities/follow/{follower_id}/{remote_id}/")
        assert not follows_(follower_id, remote_id)
        return request.activity_uri


def test_following_a_remote_account_waits_for_its_accept(app, client, alice, bob):
    follow_id = _local_follow_of(app, alice, bob.id)
    our_follow = {"id": follow_id, "type": "Follow", "actor": actor("alice"), "object": bob.actor_uri}
    assert bob.send(client, "alice", bob.activity("Accept", our_follow)).status_code == 202
    with app.app_context():
        assert follows_(alice, bob.id)
        assert requests_between(alice, bob.id) == []
        assert counts(alice) == (0, 1)
        assert counts(bob.id) == (1, 0)


def test_an_accept_naming_our_follow_by_id_alone_is_enough(app, client, alice, bob):
    follow_id = _local_follow_of(app, alice, bob.id)
    bob.send(client, "alice", bob.activity("Accept", follow_id))
    with app.app_context():
        assert follows_(alice, bob.id)


def test_an_accept_from_another_account_accepts_nothing(app, client, alice, bob):
    follow_id = _local_follow_of(app, alice, bob.id)
    with app.app_context():
        carol = Remote("carol", "other.example")
    carol.send(client, "alice", carol.activity("Accept", follow_id))
    with app.app_context():
        assert not follows_(alice, bob.id)
        assert len(requests_between(alice, bob.id)) == 1
        assert counts(alice) == (0, 0)


def test_a_reject_ends_the_request(app, client, alice, bob):
    follow_id = _local_follow_of(app, alice, bob.id)
    bob.send(client, "alice", bob.activity("Reject", {"id": follow_id, "type": "Follow"}))
    with app.app_context():
        assert requests_between(alice, bob.id) == []
        assert not follows_(alice, bob.id)


def test_a_reject_after_the_accept_ends_the_follow(app, client, alice, bob):
    follow_id = _local_follow_of(app, alice, bob.id)
    bob.send(client, "alice", bob.activity("Accept", follow_id))
    bob.send(client, "alice", bob.activity("Reject", follow_id))
    with app.app_context():
        assert not follows_(alice, bob.id)
        assert counts(alice) == (0, 0)
        assert counts(bob.id) == (0, 0)


def test_unfollowing_a_remote_account_and_withdrawing_a_request(app, alice, bob):
    _local_follow_of(app, alice, bob.id)
    with app.app_context():
        me, them = db.session.get(User, alice), db.session.get(User, bob.id)
        assert follows.unfollow(me, them) is True  # withdraws the pending request
        assert requests_between(alice, bob.id) == []
        assert follows.unfollow(me, them) is False


def test_a_block_ends_the_follows_both_ways(app, client, alice, bob):
    bob.send(client, "alice", bob.activity("Follow", actor("alice")))
    follow_id = _local_follow_of(app, alice, bob.id)
    bob.send(client, "alice", bob.activity("Accept", follow_id))
    with app.app_context():
        assert follows_(alice, bob.id) and follows_(bob.id, alice)
    assert bob.send(client, "alice", bob.activity("Block", actor("alice"))).status_code == 202
    with app.app_context():
        assert not follows_(alice, bob.id) and not follows_(bob.id, alice)
        assert counts(alice) == (0, 0)
        assert counts(bob.id) == (0, 0)


def test_a_block_drops_a_pending_request(app, client, alice, bob):
    _local_follow_of(app, alice, bob.id)
    bob.send(client, "alice", bob.activity("Block", actor("alice")))
    with app.app_context():
        assert requests_between(alice, bob.id) == []


def test_undo_block_is_understood_and_changes_nothing(app, client, alice, bob):
    block = bob.activity("Block", actor("alice"))
    bob.send(client, "alice", block)
    assert bob.send(client, "alice", bob.activity("Undo", block)).status_code == 202
    with app.app_context():
        assert set(db.session.scalars(sa.select(InboxActivity.state))) == {"done"}


def test_a_remote_request_is_answered_on_the_requests_page(app, client, alice, bob, auth):
    with app.app_context():
        db.session.get(User, alice).locked = True
        db.session.commit()
        carol = Remote("carol", "other.example")
    bob.send(client, "alice", bob.activity("Follow", actor("alice")))
    carol.send(client, "alice", carol.activity("Follow", actor("alice")))
    auth.login("alice")
    page = client.get("/follow_requests").get_data(as_text=True)
    assert "bob@remote.example" in page and "carol@other.example" in page
    with app.app_context():
        [bobs] = requests_between(bob.id, alice)
        [carols] = requests_between(carol.id, alice)
    client.post(f"/follow_requests/{bobs.id}/approve")
    client.post(f"/follow_requests/{carols.id}/refuse")
    with app.app_context():
        assert follows_(bob.id, alice) and not follows_(carol.id, alice)
        assert requests_between(carol.id, alice) == []
        assert counts(alice) == (1, 0)
