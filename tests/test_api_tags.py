"""API: a tag's posts (paged like other post lists), trending tags, mute and unmute, your mutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Mute, Post, Visibility
from microblog.services import posts, tags
from microblog.timeutil import utcnow
from tests.factories import make_user, token_for


@pytest.fixture
def site(make_app):
    app = make_app(TRENDING_CACHE_SECONDS=0)
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        start = utcnow() - timedelta(hours=1)
        ids = []
        for i in range(7):
            post = Post(body=f"bob {i} #Topic", author=bob, timestamp=start + timedelta(minutes=i))
            db.session.add(post)
            db.session.flush()
            tags.file_post(post)
            ids.append(post.id)
        db.session.commit()
        unlisted = posts.publish_post(bob, "unlisted #topic")
        unlisted.visibility = Visibility.UNLISTED.value
        db.session.commit()
        posts.publish_post(alice, "me too #topic")
        return app, alice.id, bob.id, ids


def test_tag_posts_page_by_cursor(site):
    app, _alice, _bob, ids = site
    client = app.test_client()
    response = client.get("/api/tags/TOPIC?per_page=3")
    assert response.status_code == 200
    body = response.json
    assert set(body) >= {"items", "_meta", "_links"}
    seen = [item["id"] for item in body["items"]]
    assert seen[0] != ids[-1]  # alice's newer post comes first
    while body["_links"]["next"]:
        assert "before=" in body["_links"]["next"]
        body = client.get(body["_links"]["next"]).json
        seen += [item["id"] for item in body["items"]]
    assert seen[1:] == ids[::-1] and len(seen) == 8


@pytest.mark.parametrize("name", ["x" * 1000, "123", "%23tea"])
def test_bad_tag_names_are_json_404(site, name):
    app = site[0]
    response = app.test_client().get(f"/api/tags/{name}")
    assert response.status_code == 404 and response.is_json


def test_trending_tags(site):
    app = site[0]
    response = app.test_client().get("/api/tags/trending")
    assert response.status_code == 200
    assert response.json["items"][0]["name"] == "topic" and response.json["items"][0]["people"] == 2
    assert response.json["items"][0]["_links"]["html"] == "/tags/topic"


def test_mute_and_unmute_through_the_api(site):
    app, alice, bob, _ids = site
    client = app.test_client()
    headers = token_for(client, "alice")
    assert client.post(f"/api/users/{bob}/mute").status_code == 401
    assert client.post(f"/api/users/{bob}/mute", headers=headers).status_code == 204
    assert client.post(f"/api/users/{bob}/mute", headers=headers).status_code == 204
    assert client.post(f"/api/users/{alice}/mute", headers=headers).status_code in (400, 422)
    assert client.post("/api/users/999999/mute", headers=headers).status_code == 404
    assert client.post(f"/api/users/{2**63}/mute", headers=headers).status_code == 404
    listed = client.get("/api/mutes", headers=headers).json
    assert [item["username"] for item in listed["items"]] == ["bob"]
    items = client.get("/api/tags/topic", headers=headers).json["items"]
    assert {item["author"]["username"] for item in items} == {"alice"}
    assert client.delete(f"/api/users/{bob}/mute", headers=headers).status_code == 204
    assert client.delete(f"/api/users/{bob}/mute", headers=headers).status_code == 204
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Mute)) == 0


def test_the_openapi_document_lists_the_new_paths(site):
    app = site[0]
    spec = app.test_client().get("/api/openapi.json").json
    for path in ("/api/tags/{name}", "/api/tags/trending", "/api/users/{user_id}/mute", "/api/mutes"):
        assert path in spec["paths"], path
