"""The API's likes, reposts and bookmarks: /api/posts/<id>/like|repost|bookmark (POST adds, DELETE takes
back), /api/bookmarks, post_id on notifications, and all of it in the OpenAPI document."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import User, Visibility, followers
from tests.factories import make_post, make_user, token_for


@pytest.fixture
def post_id(app) -> int:
    with app.app_context():
        alice = make_user("alice")
        make_user("bob")
        return make_post(alice, "hello api").id


@pytest.fixture
def bob(client, post_id) -> dict[str, str]:
    return token_for(client, "bob")


@pytest.mark.parametrize("noun, counter", [("like", "like_count"), ("repost", "repost_count"),
                                           ("bookmark", None)])
def test_add_twice_and_remove_twice(client, post_id, bob, noun, counter):
    for _ in range(2):
        response = client.post(f"/api/posts/{post_id}/{noun}", headers=bob)
        assert response.status_code == 200, response.json
        assert response.json["id"] == post_id and noun in response.json["viewer"]
        if counter:
            assert response.json[counter] == 1
    for _ in range(2):
        response = client.delete(f"/api/posts/{post_id}/{noun}", headers=bob)
        assert response.status_code == 200 and response.json["viewer"] == []
        if counter:
            assert response.json[counter] == 0


@pytest.mark.parametrize("method", ["post", "delete"])
@pytest.mark.parametrize("noun", ["like", "repost", "bookmark"])
def test_without_a_token_401_and_bad_ids_404(client, post_id, bob, method, noun):
    call = getattr(client, method)
    assert call(f"/api/posts/{post_id}/{noun}").status_code == 401
    response = call(f"/api/posts/{post_id + 100}/{noun}", headers=bob)
    assert response.status_code == 404 and response.is_json
    for bad in (0, 2**63):
        # No route takes such an id. Werkzeug answers an out-of-range DELETE with 405, as it does for
        # DELETE /api/posts/0 already: a clear 4xx either way.
        response = call(f"/api/posts/{bad}/{noun}", headers=bob)
        assert response.status_code in ((404,) if method == "post" else (404, 405)) and response.is_json


def test_repost_of_a_followers_only_post_is_403(app, client, post_id, bob):
    with app.app_context():
        alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
        bob_id = db.session.scalar(sa.select(User.id).where(User.username == "bob"))
        db.session.execute(followers.insert().values(follower_id=bob_id, followed_id=alice.id))
        private = make_post(alice, "followers only")
        private.visibility = Visibility.FOLLOWERS.value
        db.session.commit()
        private_id = private.id
    response = client.post(f"/api/posts/{private_id}/repost", headers=bob)
    assert response.status_code == 403 and "followers only" in response.json["message"]


def test_bookmarks_list_is_paged_and_private(app, client, post_id, bob):
    with app.app_context():
        alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
        ids = [post_id] + [make_post(alice, f"more {i}").id for i in range(4)]
    for each in ids:
        assert client.post(f"/api/posts/{each}/bookmark", headers=bob).status_code == 200
    page = client.get("/api/bookmarks?per_page=2", headers=bob).json
    assert [p["id"] for p in page["items"]] == ids[::-1][:2]
    assert page["_meta"]["per_page"] == 2 and page["_links"]["next"]
    second = client.get(page["_links"]["next"], headers=bob).json
    assert [p["id"] for p in second["items"]] == ids[::-1][2:4]
    assert second["_links"]["prev"]
    assert client.get("/api/bookmarks?before=junk", headers=bob).status_code == 404
    assert client.get("/api/bookmarks").status_code == 401
    assert token_for(client, "alice") and client.get(
        "/api/bookmarks", headers=token_for(client, "alice")).json["items"] == []


def test_notifications_carry_the_post_id(client, post_id, bob):
    client.post(f"/api/posts/{post_id}/like", headers=bob)
    client.post(f"/api/posts/{post_id}/repost", headers=bob)
    items = client.get("/api/notifications", headers=token_for(client, "alice")).json["items"]
    assert {(n["kind"], n["post_id"], n["actor"]["username"]) for n in items} == {
        ("like", post_id, "bob"), ("repost", post_id, "bob")}


def test_the_endpoints_are_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    for noun in ("like", "repost", "bookmark"):
        operations = paths[f"/api/posts/{{post_id}}/{noun}"]
        assert {"post", "delete"} <= set(operations)
        assert "404" in operations["post"]["responses"] and "401" in operations["post"]["responses"]
    assert "get" in paths["/api/bookmarks"]
    assert "post_id" in spec["components"]["schemas"]["Notification"]["properties"]
