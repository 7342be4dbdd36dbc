"""The JSON API for private messages and notifications."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Message, Notification, User
from tests.factories import make_block, make_follow, make_message, make_post, make_user, token_for


@pytest.fixture
def ids(app) -> dict[str, int]:
    with app.app_context():
        return {name: make_user(name).id for name in ("alice", "bob", "carol")}


def test_send_and_list_messages(client, app, ids):
    alice, bob = token_for(client, "alice"), token_for(client, "bob")
    to_bob = {"recipient_id": ids["bob"], "body": " Hi Bob "}
    response = client.post("/api/messages", json=to_bob, headers=alice)
    assert response.status_code == 201
    sent = response.json
    assert sent["body"] == "Hi Bob"
    assert sent["sender"]["username"] == "alice" and sent["recipient"]["username"] == "bob"
    assert sent["read_at"] is None
    assert sent["_links"]["recipient"] == f"/api/users/{ids['bob']}"
    client.post("/api/messages", json={"recipient_id": ids["alice"], "body": "Hi Alice"}, headers=bob)
    client.post("/api/messages", json={"recipient_id": ids["carol"], "body": "Hi Carol"}, headers=alice)

    listed = client.get("/api/messages", headers=alice).json
    assert [m["body"] for m in listed["items"]] == ["Hi Carol", "Hi Alice", "Hi Bob"]
    with_bob = client.get(f"/api/messages?user_id={ids['bob']}&per_page=1", headers=alice).json
    assert [m["body"] for m in with_bob["items"]] == ["Hi Alice"]
    assert with_bob["_links"]["next"] == f"/api/messages?page=2&per_page=1&user_id={ids['bob']}"
    older = client.get(with_bob["_links"]["next"], headers=alice).json
    assert [m["body"] for m in older["items"]] == ["Hi Bob"]
    for_carol = client.get("/api/messages", headers=token_for(client, "carol")).json
    assert [m["body"] for m in for_carol["items"]] == ["Hi Carol"]


@pytest.mark.parametrize(("payload", "status", "field"), [
    ({"recipient_id": 999, "body": "hi"}, 404, None),
    ({"recipient_id": 2**40, "body": "hi"}, 404, None),
    ({"recipient_id": "bob", "body": "hi"}, 422, "recipient_id"),
    ({"body": "hi"}, 422, "recipient_id"),
    ({"recipient_id": 2, "body": "   "}, 422, "body"),
    ({"recipient_id": 2, "body": "x" * 1001}, 422, "body"),
    ({"recipient_id": 2, "body": "hi", "extra": 1}, 422, "extra"),
    ({"recipient_id": 1, "body": "hi me"}, 422, None),
])
def test_bad_messages_are_refused(client, app, ids, payload, status, field):
    response = client.post("/api/messages", json=payload, headers=token_for(client, "alice"))
    assert response.status_code == status, response.json
    if field:
        assert field in response.json["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_blocked_users_get_403(client, app, ids):
    with app.app_context():
        make_block(db.session.get(User, ids["bob"]), db.session.get(User, ids["alice"]))
    alice = token_for(client, "alice")
    response = client.post("/api/messages", json={"recipient_id": ids["bob"], "body": "hi"}, headers=alice)
    assert response.status_code == 403
    assert response.json["message"] == "You cannot send messages to bob."
    assert client.post(f"/api/users/{ids['bob']}/follow", headers=alice).status_code == 403


def test_explore_leaves_out_blocked_authors_for_the_blocker(client, app, ids):
    with app.app_context():
        alice, bob = db.session.get(User, ids["alice"]), db.session.get(User, ids["bob"])
        make_post(bob, "post by bob")
        make_block(alice, bob)
    assert client.get("/api/posts").json["items"][0]["body"] == "post by bob"  # anonymous: everyone's
    assert client.get("/api/posts", headers=token_for(client, "alice")).json["items"] == []


def test_notifications_list_and_mark_read(client, app, ids):
    with app.app_context():
        alice, bob = db.session.get(User, ids["alice"]), db.session.get(User, ids["bob"])
        make_follow(alice, bob)  # directly: no notification
    alice_token, bob_token = token_for(client, "alice"), token_for(client, "bob")
    client.post(f"/api/users/{ids['bob']}/follow", headers=token_for(client, "carol"))
    client.post("/api/messages", json={"recipient_id": ids["bob"], "body": "hello"}, headers=alice_token)

    listed = client.get("/api/notifications", headers=bob_token).json
    assert [(n["kind"], n["actor"]["username"]) for n in listed["items"]] == [("message", "alice"),
                                                                              ("new_follower", "carol")]
    message_id = listed["items"][0]["payload"]["message_id"]
    with app.app_context():
        assert db.session.get(Message, message_id).body == "hello"
    assert all(n["read_at"] is None for n in listed["items"])
    assert len(client.get("/api/notifications?unread=true", headers=bob_token).json["items"]) == 2

    assert client.post("/api/notifications/read", headers=bob_token).status_code == 204
    assert client.get("/api/notifications?unread=true", headers=bob_token).json["items"] == []
    assert all(n["read_at"] for n in client.get("/api/notifications", headers=bob_token).json["items"])
    assert client.get("/api/notifications", headers=alice_token).json["items"] == []


def test_listing_marks_nothing_read(client, app, ids):
    with app.app_context():
        make_message(db.session.get(User, ids["alice"]), db.session.get(User, ids["bob"]))
        db.session.add(Notification(user_id=ids["bob"], kind="message", actor_id=ids["alice"]))
        db.session.commit()
    bob = token_for(client, "bob")
    client.get("/api/notifications", headers=bob)
    client.get("/api/messages", headers=bob)
    with app.app_context():
        assert db.session.scalar(sa.select(Notification.read_at)) is None
        assert db.session.scalar(sa.select(Message.read_at)) is None


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/messages"), ("POST", "/api/messages"), ("GET", "/api/notifications"),
    ("POST", "/api/notifications/read"),
])
def test_a_token_is_required(client, ids, method, path):
    response = client.open(path, method=method, json={"recipient_id": 2, "body": "hi"})
    assert response.status_code == 401
    assert response.json["error"] == "Unauthorized"


def test_unknown_conversation_is_404(client, ids):
    assert client.get("/api/messages?user_id=999", headers=token_for(client, "alice")).status_code == 404
