"""The API's conversations: replies, visibility and content warnings on POST /api/posts, edits
(PATCH), their history, and a post's thread."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Mention, Notification, NotificationKind, Post, User
from microblog.services import posts
from tests.factories import make_follow, make_post, make_user, token_for


def user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


@pytest.fixture
def site(app, client):
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_user("carol")
        root = make_post(alice, "Tea or coffee?").id
        ids = {"alice": alice.id, "bob": bob.id, "root": root}
    return ids, {name: token_for(client, name) for name in ("alice", "bob", "carol")}


def test_reply_with_a_content_warning(client, app, site):
    ids, tokens = site
    response = client.post("/api/posts", headers=tokens["bob"], json={
        "body": "Tea, and here is why", "in_reply_to_id": ids["root"], "spoiler_text": "long rant",
        "visibility": "unlisted"})
    assert response.status_code == 201, response.json
    data = response.json
    assert (data["in_reply_to_id"], data["in_reply_to_user_id"], data["is_reply"]) == (
        ids["root"], ids["alice"], True)
    assert (data["spoiler_text"], data["visibility"], data["edited_at"]) == ("long rant", "unlisted", None)
    root = client.get(f"/api/posts/{ids['root']}").json
    assert root["reply_count"] == 1 and root["like_count"] == 0 and root["repost_count"] == 0
    assert root["is_reply"] is False and root["spoiler_text"] is None and root["visibility"] == "public"
    with app.app_context():
        note = db.session.scalar(sa.select(Notification))
        assert (note.user_id, note.kind, note.post_id) == (ids["alice"], NotificationKind.REPLY, data["id"])


def test_bad_replies_are_4xx(client, app, site):
    ids, tokens = site
    with app.app_context():
        secret = posts.publish_post(user("alice"), "followers only", visibility="followers").id
    for target in (secret, 999999, 2**63, -1):
        response = client.post("/api/posts", headers=tokens["bob"],
                               json={"body": "hi", "in_reply_to_id": target})
        assert response.status_code == 404, (target, response.json)
    bob = tokens["bob"]
    response = client.post("/api/posts", headers=bob, json={"body": "hi", "visibility": "everyone"})
    assert response.status_code == 422
    response = client.post("/api/posts", headers=bob, json={"body": "hi", "spoiler_text": "x" * 501})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2


def test_edit_and_history(client, app, site):
    ids, tokens = site
    path = f"/api/posts/{ids['root']}"
    assert client.patch(path, headers=tokens["bob"], json={"body": "mine"}).status_code == 403
    assert client.patch("/api/posts/999999", headers=tokens["alice"], json={"body": "x"}).status_code == 404
    # The router refuses an id past the column's range before any view (as for DELETE): a 4xx, never a 500.
    huge = client.patch(f"/api/posts/{2**63}", headers=tokens["alice"], json={"body": "x"})
    assert huge.status_code in (404, 405)
    assert client.patch(path, json={"body": "anonymous"}).status_code == 401
    response = client.patch(path, headers=tokens["alice"], json={"body": "Coffee or tea?"})
    assert response.status_code == 200 and response.json["edited_at"] is not None
    response = client.patch(path, headers=tokens["alice"], json={"spoiler_text": "drinks"})
    assert (response.json["body"], response.json["spoiler_text"]) == ("Coffee or tea?", "drinks")
    items = client.get(f"{path}/history").json["items"]
    assert [(v["body"], v["spoiler_text"], v["current"]) for v in items] == [
        ("Coffee or tea?", "drinks", True), ("Coffee or tea?", None, False), ("Tea or coffee?", None, False)]
    assert client.get("/api/posts/999999/history").status_code == 404
    assert client.patch(path, headers=tokens["alice"], json={"body": ""}).status_code == 422


def test_context_follows_the_visibility_rule(client, app, site):
    ids, tokens = site
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        first = posts.publish_post(bob, "first", in_reply_to=ids["root"]).id
        secret = posts.publish_post(alice, "followers hear this", in_reply_to=first,
                                    visibility="followers").id
        last = posts.publish_post(bob, "last", in_reply_to=ids["root"]).id
    context = client.get(f"/api/posts/{ids['root']}/context").json
    assert context["ancestors"] == [] and [p["id"] for p in context["descendants"]] == [first, last]
    context = client.get(f"/api/posts/{first}/context", headers=tokens["alice"]).json
    assert [p["id"] for p in context["ancestors"]] == [ids["root"]]
    assert [p["id"] for p in context["descendants"]] == [secret]
    assert client.get(f"/api/posts/{secret}/context").status_code == 404
    assert client.get(f"/api/posts/{secret}", headers=tokens["carol"]).status_code == 404
    assert client.get(f"/api/posts/{2**63}/context").status_code == 404
    with app.app_context():
        make_follow(user("bob"), user("alice"))
        db.session.add(Mention(post_id=secret, user_id=user("carol").id))
        db.session.commit()
    for name in ("bob", "carol"):
        assert client.get(f"/api/posts/{secret}/context", headers=tokens[name]).status_code == 200
    assert secret not in [p["id"] for p in client.get("/api/posts", headers=tokens["bob"]).json["items"]]


def test_unlisted_posts_stay_off_the_public_list(client, app, site):
    ids, tokens = site
    created = client.post("/api/posts", headers=tokens["bob"],
                          json={"body": "quiet", "visibility": "unlisted"})
    post_id = created.json["id"]
    assert post_id not in [p["id"] for p in client.get("/api/posts").json["items"]]
    assert client.get(f"/api/posts/{post_id}").status_code == 200
    assert post_id in [p["id"] for p in client.get(f"/api/users/{ids['bob']}/posts").json["items"]]


def test_the_new_endpoints_are_documented(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"get", "patch", "delete"} <= set(paths["/api/posts/{post_id}"])
    assert "get" in paths["/api/posts/{post_id}/history"] and "get" in paths["/api/posts/{post_id}/context"]
