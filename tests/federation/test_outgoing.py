"""Outgoing activities: what each local action sends, to whom, addressed how; mentions of remote accounts.
The remote servers are real HTTP servers on 127.0.0.1 (tests/federation/delivery_peer.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.exceptions import PermissionDenied
from microblog.extensions import db
from microblog.federation import delivery, outgoing
from microblog.models import Announce, Delivery, Like, Mention, Notification, Post, User
from microblog.post_text import mentioned_names
from microblog.services import account_deletion, accounts, blocks, posts, reactions
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_user
from tests.federation.delivery_peer import Peer

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SITE = "http://microblog.test"


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


@pytest.fixture
def other() -> Iterator[Peer]:
    """A second remote server."""
    server = Peer().start()
    yield server
    server.stop()


def _get(user: User) -> User:
    """The account as it is now (jobs, in their own sessions, gave it keys)."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def _remote_post(author: User, body: str = "a remote post", visibility: str = "public") -> Post:
    post = Post(body=body, author=author, uri=f"{author.actor_uri}/statuses/{body.__hash__() & 0xffff}",
                visibility=visibility)
    db.session.add(post)
    db.session.commit()
    return post


def _addressed(activity: dict) -> list[str]:
    return [*activity.get("to", []), *activity.get("cc", [])]


def test_like_and_unlike_of_a_remote_post(app, peer):
    with app.app_context():
        alice, bob = make_user("alice"), peer.remote_user("bob")
        post = _remote_post(bob)
        reactions.like(alice, post.id)
        [like] = peer.received
        assert like.path == "/users/bob/inbox"  # the author's own inbox
        like.verify(_get(alice).public_key_pem)
        activity = like.activity
        assert activity["type"] == "Like" and activity["object"] == post.uri
        like = db.session.scalars(sa.select(Like).where(Like.user_id == alice.id)).one()
        stamp = int(like.created_at.timestamp() * 1000)
        assert activity["id"] == f"{SITE}/activities/like/{like.id}-{stamp}"  # named by the like's row
        assert activity["actor"] == f"{SITE}/user/alice"

        reactions.like(alice, post.id)  # liking twice sends nothing more
        assert len(peer.received) == 1
        reactions.unlike(alice, post.id)
        [undo] = peer.of_type("Undo")
        assert undo.activity["object"]["id"] == activity["id"] and undo.activity["object"]["type"] == "Like"
        assert undo.activity["object"]["object"] == post.uri
        assert undo.activity["id"] != activity["id"]
        reactions.like(alice, post.id)  # liking again is a new Like, not a replay of the first
        again = [seen.activity for seen in peer.of_type("Like")]
        assert len(again) == 2 and again[1]["id"] != activity["id"]


def test_likes_of_local_posts_stay_here(app, peer):
    with app.app_context():
        alice, carol = make_user("alice"), make_user("carol")
        make_follow(peer.remote_user("bob"), alice)
        post = posts.publish_post(carol, "local")
        reactions.like(alice, post.id)
        reactions.unlike(alice, post.id)
        assert peer.received == []


def test_repost_goes_to_followers_and_the_author(app, peer, other):
    with app.app_context():
        alice = make_user("alice")
        make_follow(peer.remote_user("carol"), alice)
        bob = other.remote_user("bob")
        post = _remote_post(bob)
        reactions.repost(alice, post.id)
        [to_followers], [to_author] = peer.received, other.received
        assert to_followers.path == "/inbox" and to_author.path == "/inbox"
        announce = to_followers.activity
        assert announce == to_author.activity
        assert announce["type"] == "Announce" and announce["object"] == post.uri
        row = db.session.scalars(sa.select(Announce).where(Announce.user_id == alice.id)).one()
        stamp = int(row.created_at.timestamp() * 1000)
        assert announce["id"] == f"{SITE}/activities/announce/{row.id}-{stamp}"
        assert announce["to"] == [PUBLIC] and bob.actor_uri in announce["cc"]
        assert f"{SITE}/user/alice/followers" in announce["cc"]

        reactions.unrepost(alice, post.id)
        [undo] = peer.of_type("Undo")
        assert undo.activity["object"]["id"] == announce["id"]
        assert len(other.of_type("Undo")) == 1


def test_repost_of_a_local_post_goes_to_remote_followers(app, peer):
    with app.app_context():
        alice, carol = make_user("alice"), make_user("carol")
        make_follow(peer.remote_user("bob"), alice)
        post = posts.publish_post(carol, "worth sharing")
        reactions.repost(alice, post.id)
        [announce] = peer.of_type("Announce")
        assert announce.activity["object"] == f"{SITE}/post/{post.id}"


def test_block_and_unblock_of_a_remote_account(app, peer):
    with app.app_context():
        alice, bob = make_user("alice"), peer.remote_user("bob")
        blocks.block_user(alice, bob)
        [block] = peer.received
        assert block.path == "/users/bob/inbox"
        assert block.activity["type"] == "Block" and block.activity["object"] == bob.actor_uri
        assert block.activity["id"] == f"{SITE}/activities/block/{alice.id}/{bob.id}"
        blocks.unblock_user(alice, bob)
        [undo] = peer.of_type("Undo")
        assert undo.path == "/users/bob/inbox"
        assert undo.activity["object"]["id"] == block.activity["id"]
        blocks.unblock_user(alice, bob)  # nothing to undo: nothing sent
        assert len(peer.received) == 2


def test_blocking_a_local_account_sends_nothing(app, peer):
    with app.app_context():
        alice, carol = make_user("alice"), make_user("carol")
        make_follow(peer.remote_user("bob"), alice)
        blocks.block_user(alice, carol)
        assert peer.received == []


def test_edit_sends_update_and_delete_sends_a_tombstone(app, peer):
    with app.app_context():
        alice = make_user("alice")
        make_follow(peer.remote_user("bob"), alice)
        post = posts.publish_post(alice, "first words")
        posts.edit_post(alice, post.id, "better words")
        [update] = peer.of_type("Update")
        note = update.activity["object"]
        assert note["id"] == f"{SITE}/post/{post.id}" and "better words" in note["content"]
        assert note["updated"] and update.activity["id"].startswith(f"{SITE}/activities/update/{post.id}/")
        assert update.activity["to"] == [PUBLIC]
        posts.edit_post(alice, post.id, "better words")  # no change: nothing sent
        assert len(peer.of_type("Update")) == 1

        posts.delete_post(alice, post.id)
        [delete] = peer.of_type("Delete")
        delete.verify(_get(alice).public_key_pem)
        assert delete.activity["object"] == {"id": f"{SITE}/post/{post.id}", "type": "Tombstone"}
        assert delete.activity["id"] == f"{SITE}/activities/delete/{post.id}"
        assert PUBLIC not in _addressed(delete.activity)


def test_delete_reaches_those_the_post_mentioned(app, peer, other):
    with app.app_context():
        alice = make_user("alice")
        bob = other.remote_user("bob")
        post = posts.publish_post(alice, f"hi @{bob.username}")
        assert len(other.of_type("Create")) == 1
        posts.delete_post(alice, post.id)
        assert len(other.of_type("Delete")) == 1 and peer.received == []


def test_followers_only_posts_are_never_addressed_to_public(app, peer, other):
    with app.app_context():
        alice = make_user("alice")
        make_follow(peer.remote_user("bob"), alice)
        dave = other.remote_user("dave")
        post = posts.publish_post(alice, f"for friends and @{dave.username}", visibility="followers")
        posts.edit_post(alice, post.id, f"still for friends and @{dave.username}")
        sent = peer.received + other.received
        assert sorted(item.activity["type"] for item in sent) == ["Create", "Create", "Update", "Update"]
        for item in sent:
            activity = item.activity
            assert PUBLIC not in _addressed(activity) and PUBLIC not in _addressed(activity["object"])
            assert activity["to"] == [f"{SITE}/user/alice/followers", dave.actor_uri]
        with pytest.raises(PermissionDenied):
            reactions.repost(alice, post.id)


def test_unlisted_posts_are_public_in_cc(app, peer):
    with app.app_context():
        alice = make_user("alice")
        make_follow(peer.remote_user("bob"), alice)
        posts.publish_post(alice, "quietly", visibility="unlisted")
        [create] = peer.received
        assert create.activity["to"] == [f"{SITE}/user/alice/followers"] and PUBLIC in create.activity["cc"]


def test_a_reply_reaches_the_remote_author(app, other):
    with app.app_context():
        alice, bob = make_user("alice"), other.remote_user("bob")
        parent = _remote_post(bob, "a question")
        posts.publish_post(alice, "an answer", in_reply_to=parent.id)
        [create] = other.received
        assert create.activity["object"]["inReplyTo"] == parent.uri


def test_profile_update_goes_to_followers_servers(app, peer):
    if "federation.outbox" not in app.view_functions:  # the actor names its outbox (SERVE's route)
        pytest.skip("the outbox route is not there yet")
    with app.app_context():
        alice = make_user("alice")
        make_follow(peer.remote_user("bob"), alice)
        make_follow(peer.remote_user("carol"), alice)
        accounts.update_profile(_get(alice), "alice", "I write here now")
        [update] = peer.received
        assert update.path == "/inbox"
        person = update.activity["object"]
        assert update.activity["type"] == "Update" and person["type"] == "Person"
        assert person["id"] == f"{SITE}/user/alice" and "I write here now" in person["summary"]
        assert person["publicKey"]["publicKeyPem"] == _get(alice).public_key_pem


def test_profile_update_without_remote_followers_sends_nothing(app, peer):
    with app.app_context():
        alice = make_user("alice")
        make_follow(make_user("fan"), alice)
        accounts.update_profile(_get(alice), "alice", "hello")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_follow_accept_and_undo_go_to_the_accounts_own_inbox(app, peer):
    with app.app_context():
        alice, bob = make_user("alice"), peer.remote_user("bob")
        follow_id = f"{SITE}/activities/follow/{alice.id}/{bob.id}"
        outgoing.follow_requested(alice.id, bob.id, follow_id)
        outgoing.unfollowed(alice.id, bob.id)
        outgoing.follow_answered(bob.id, alice.id, f"{bob.actor_uri}/follows/1", True)
        outgoing.follow_answered(bob.id, alice.id, None, False)
        assert [item.path for item in peer.received] == ["/users/bob/inbox"] * 4
        follow, undo, accept, reject = (item.activity for item in peer.received)
        assert follow["type"] == "Follow" and follow["id"] == follow_id and follow["object"] == bob.actor_uri
        assert undo["type"] == "Undo" and undo["object"]["id"] == follow_id
        assert accept["type"] == "Accept" and accept["actor"] == f"{SITE}/user/alice"
        assert accept["object"] == {"id": f"{bob.actor_uri}/follows/1", "type": "Follow",
                                    "actor": bob.actor_uri, "object": f"{SITE}/user/alice"}
        assert reject["type"] == "Reject" and reject["object"]["actor"] == bob.actor_uri
        # Nothing for local accounts on either side.
        carol = make_user("carol")
        outgoing.follow_requested(alice.id, carol.id, "x")
        outgoing.follow_answered(carol.id, alice.id, None, True)
        assert len(peer.received) == 4


def test_move_goes_to_followers(app, peer):
    with app.app_context():
        alice, bob = make_user("alice"), peer.remote_user("bob")
        new_home = peer.remote_user("alice2")
        make_follow(bob, alice)
        alice.moved_to_id = new_home.id
        db.session.commit()
        outgoing.moved(alice.id)
        [move] = peer.received
        assert move.activity["type"] == "Move" and move.activity["target"] == new_home.actor_uri
        assert move.activity["object"] == f"{SITE}/user/alice"


def test_account_deletion_tells_followers_servers(app, peer):
    with app.app_context():
        alice = make_user("alice")
        make_follow(peer.remote_user("bob"), alice)
        posts.publish_post(alice, "goodbye")
        alice.deletion_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert account_deletion.delete_account(alice.id) is True
        [delete] = peer.of_type("Delete")
        assert delete.activity["object"] == f"{SITE}/user/alice" and delete.activity["to"] == [PUBLIC]
        assert db.session.get(User, alice.id) is None


def test_account_deletion_waits_for_its_deliveries(app, peer):
    with app.app_context():
        alice = make_user("alice")
        make_follow(peer.remote_user("bob"), alice)
        alice.deletion_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        peer.status = 503
        assert account_deletion.delete_account(alice.id) is False  # its Delete still needs its key
        assert db.session.get(User, alice.id) is not None
        peer.status = 202
        db.session.execute(sa.update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        delivery.retry_due_deliveries()
        assert account_deletion.delete_account(alice.id) is True
        assert len(peer.of_type("Delete")) == 2


# -- mentions of remote accounts -------------------------------------------------------------------
def test_mention_names_with_and_without_remote_accounts():
    text = "hi @bob@remote.example, @carol and @dave@127.0.0.1:8080. mail me@example.com, @eve@host"
    assert mentioned_names(text) == ["carol"]
    assert mentioned_names(text, remote=True) == ["bob@remote.example", "carol", "dave@127.0.0.1:8080"]
    assert mentioned_names("@Bob@Remote.Example.", remote=True) == ["bob@remote.example"]


def test_a_local_post_mentions_a_stored_remote_account(app, other):
    with app.app_context():
        alice, carol = make_user("alice"), make_user("carol")
        bob = other.remote_user("bob")
        post = posts.publish_post(alice, f"hello @{bob.username.upper()}, @carol and @nobody@{other.domain}")
        mentioned = set(db.session.scalars(sa.select(Mention.user_id).where(Mention.post_id == post.id)))
        assert mentioned == {bob.id, carol.id}
        # The local account is told; the remote one hears of it by delivery.
        told = set(db.session.scalars(sa.select(Notification.user_id).where(Notification.post_id == post.id)))
        assert told == {carol.id}
        [create] = other.received
        tags = create.activity["object"]["tag"]
        assert {"type": "Mention", "href": bob.actor_uri, "name": f"@{bob.username}"} in tags
        assert bob.actor_uri in create.activity["cc"]


def test_a_mention_with_this_sites_host_is_local(app):
    with app.app_context():
        alice, carol = make_user("alice"), make_user("carol")
        post = posts.publish_post(alice, "hello @carol@microblog.test")
        mentioned = db.session.scalars(sa.select(Mention.user_id).where(Mention.post_id == post.id)).all()
        assert mentioned == [carol.id]


def test_remote_mentions_link_on_cards_and_unknown_ones_stay_text(app, client, other):
    with app.app_context():
        alice = make_user("alice")
        bob = other.remote_user("bob")
        post = posts.publish_post(alice, f"hi @{bob.username} and @ghost@{other.domain}")
        post_id = post.id
    page = client.get(f"/post/{post_id}").get_data(as_text=True)
    assert f'href="/user/bob@{other.domain}"' in page
    assert f"@ghost@{other.domain}" in page and f'href="/user/ghost@{other.domain}"' not in page


def test_a_remote_authors_deletion_is_not_sent_on(app, peer, other):
    """The inbox deletes a remote post through the posts service: nothing of it goes out again."""
    with app.app_context():
        alice, bob = make_user("alice"), other.remote_user("bob")
        carol = peer.remote_user("carol")
        make_follow(alice, bob)
        post = _remote_post(bob, f"hi @{carol.username}")
        db.session.add(Mention(post_id=post.id, user_id=carol.id))
        db.session.commit()
        posts.delete_post(bob, post.id)
        assert db.session.get(Post, post.id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0
        assert peer.received == [] and other.received == []


def test_a_name_followed_from_other_servers_cannot_change(app, peer):
    """The username is in the account's actor id, which other servers keep: no renaming once they follow."""
    from microblog.exceptions import ValidationError

    with app.app_context():
        alice, carol = make_user("alice"), make_user("carol")
        accounts.update_profile(_get(carol), "carol_renamed", None)  # followed by nobody elsewhere: fine
        make_follow(peer.remote_user("bob"), alice)
        with pytest.raises(ValidationError, match="other servers follow you"):
            accounts.update_profile(_get(alice), "alice_renamed", None)
        assert _get(alice).username == "alice"
        accounts.update_profile(_get(alice), "alice", "still me")  # the rest of the profile still changes


def test_private_messages_to_other_servers_are_refused_not_lost(app, peer):
    """The site's messages stay on the site: one to a remote account would never arrive, so it is refused
    with the reason (and nothing is stored)."""
    from microblog.exceptions import ValidationError
    from microblog.models import Message
    from microblog.services import messages

    with app.app_context():
        alice, bob = make_user("alice"), peer.remote_user("bob")
        with pytest.raises(ValidationError, match="another server"):
            messages.send_message(alice, bob, "hello there")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert peer.received == []
