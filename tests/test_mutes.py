"""Mute: the muted person's posts leave home, Explore and tag pages, their notifications stop; the
settings page lists mutes and blocks with undo buttons; the composer's name suggestions."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Mute, Notification, User
from microblog.services import mutes, posts
from tests.factories import make_block, make_follow, make_user


def post_ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="post-(\d+)"', html)]


@pytest.fixture
def pair(app):
    """alice follows bob, who posted with a tag."""
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_follow(alice, bob)
        post = posts.publish_post(bob, "bob talks about #coffee")
        return alice.id, bob.id, post.id


def test_mute_removes_posts_from_home_explore_and_tags(app, client, auth, pair):
    _alice, _bob, post_id = pair
    auth.login()
    for path in ("/", "/explore", "/tags/coffee"):
        assert post_id in post_ids_on(client.get(path).get_data(as_text=True)), path
    response = client.post("/mute/Bob")
    assert response.status_code == 302 and response.headers["Location"] == "/user/bob"
    for path in ("/", "/explore", "/tags/coffee"):
        assert post_id not in post_ids_on(client.get(path).get_data(as_text=True)), path
    # The profile still shows them (you went there on purpose), with an Unmute button.
    html = client.get("/user/bob").get_data(as_text=True)
    assert post_id in post_ids_on(html) and 'action="/unmute/bob"' in html
    client.post("/unmute/bob")
    assert post_id in post_ids_on(client.get("/").get_data(as_text=True))


def test_muting_twice_is_harmless_and_yourself_is_refused(app, client, auth, pair):
    alice, bob, _ = pair
    auth.login()
    client.post("/mute/bob")
    client.post("/mute/bob")
    response = client.post("/mute/alice", follow_redirects=True)
    assert "You cannot mute yourself." in response.get_data(as_text=True)
    assert client.post("/mute/nobody").status_code == 404
    assert client.get("/mute/bob").status_code == 405
    with app.app_context():
        assert db.session.scalars(sa.select(Mute.muted_id).where(Mute.muter_id == alice)).all() == [bob]
    assert client.post("/unmute/bob").status_code == 302
    assert client.post("/unmute/bob").status_code == 302


def test_the_muted_are_not_told_and_do_not_notify(app, pair):
    alice_id, bob_id, _ = pair
    with app.app_context():
        alice, bob = db.session.get(User, alice_id), db.session.get(User, bob_id)
        mutes.mute(alice, "bob")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                 .where(Notification.user_id == bob_id)) == 0
        posts.publish_post(bob, "hey @alice")
        from_bob = sa.and_(Notification.user_id == alice_id, Notification.actor_id == bob_id)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(from_bob)) == 0


def test_settings_page_lists_muted_and_blocked_with_undo(app, client, auth, pair):
    alice_id, _bob, _ = pair
    with app.app_context():
        alice = db.session.get(User, alice_id)
        make_block(alice, make_user("carol"))
        mutes.mute(alice, "bob")
    auth.login()
    html = client.get("/settings/muted").get_data(as_text=True)
    assert 'action="/unmute/bob"' in html and 'action="/unblock/carol"' in html
    assert 'href="/settings/muted"' in client.get("/edit_profile").get_data(as_text=True)
    response = client.post("/unmute/bob", data={"next": "/settings/muted"})
    assert response.headers["Location"] == "/settings/muted"
    response = client.post("/unblock/carol", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/user/carol"
    html = client.get("/settings/muted").get_data(as_text=True)
    assert "You have not muted anyone." in html and "You have not blocked anyone." in html


def test_settings_page_needs_a_login(client):
    assert client.get("/settings/muted").status_code == 302


def test_autocomplete_suggests_names_by_prefix(app, client, auth):
    with app.app_context():
        for name in ("alice", "Albert", "alfred", "al_x", "alyx", "bob", "zed"):
            make_user(name)
    auth.login()
    response = client.get("/users/autocomplete.json?q=AL")
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    names = [item["username"] for item in response.json]
    assert names == ["al_x", "Albert", "alfred", "alice", "alyx"]
    assert all(item["avatar"] for item in response.json)
    # "_" is a literal, not LIKE's wildcard; "%" is not a name at all.
    assert [item["username"] for item in client.get("/users/autocomplete.json?q=al_").json] == ["al_x"]
    for query in ("", "%", "a%25", "x" * 200, "<script>", "al'--"):
        assert client.get("/users/autocomplete.json", query_string={"q": query}).json == []


def test_autocomplete_needs_a_login(client):
    assert client.get("/users/autocomplete.json?q=al").status_code == 302
