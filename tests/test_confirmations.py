"""Deleting a post, blocking and unblocking ask first and come back to the page you were on.

Without JavaScript the button is a GET to a page that says what will happen; the change itself stays a
POST with a CSRF token, to a ``next`` that must be a path on this site. A fetch call (confirm.js) gets
JSON and stays where it is.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Block, Post
from microblog.services import posts
from tests.factories import DEFAULT_PASSWORD, find_user, make_block, make_follow, make_post, make_user

JSON = {"Accept": "application/json"}


@pytest.fixture
def people(app):
    """alice (signed in by the tests) and bob, who follow each other; a post by each."""
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_follow(alice, bob), make_follow(bob, alice)
        return {"alice": make_post(alice, "alice's words").id, "bob": make_post(bob, "bob's words").id}


def hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} field"
    return unescape(match.group(1))


def exists(app, post_id: int) -> bool:
    with app.app_context():
        return db.session.get(Post, post_id) is not None


def blocked(app, blocker: str = "alice", other: str = "bob") -> bool:
    with app.app_context():
        a, b = find_user(blocker), find_user(other)
        query = sa.select(Block).where(Block.blocker_id == a.id, Block.blocked_id == b.id)
        return db.session.scalar(query) is not None


# -- deleting a post ---------------------------------------------------------------------------------

def test_the_delete_button_opens_a_page_that_asks(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    timeline = client.get("/explore?page=1").get_data(as_text=True)
    post_id = people["alice"]
    assert f'action="/post/{post_id}/delete/confirm" method="get"' in timeline
    assert f'data-confirm-action="/post/{post_id}/delete"' in timeline
    response = client.get(f"/post/{post_id}/delete/confirm", query_string={"next": "/explore?page=1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Delete this post?" in html and "This cannot be undone." in html and "alice&#39;s words" in html
    assert f'method="post" action="/post/{post_id}/delete"' in html
    assert hidden(html, "next") == "/explore?page=1"
    assert 'href="/explore?page=1">Cancel</a>' in html
    assert exists(app, post_id)  # asking changes nothing


def test_deleting_comes_back_to_the_page_you_were_on(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post(f"/post/{people['alice']}/delete", data={"next": "/explore?page=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/explore?page=1"
    assert not exists(app, people["alice"])
    assert "Your post has been deleted." in client.get("/explore").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:x", "http:/evil.example", ""])
def test_an_outside_next_is_refused(app, client, auth, people, target):
    auth.login("alice", DEFAULT_PASSWORD)
    page = client.get(f"/post/{people['alice']}/delete/confirm", query_string={"next": target})
    assert hidden(page.get_data(as_text=True), "next") == f"/post/{people['alice']}"
    response = client.post(f"/post/{people['alice']}/delete", data={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/user/alice"


def test_deleting_a_post_on_its_own_page_goes_to_the_post_it_answered(app, client, auth, people):
    with app.app_context():
        reply = posts.publish_post(find_user("alice"), "a reply", in_reply_to=people["bob"]).id
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post(f"/post/{reply}/delete", data={"next": f"/post/{reply}?replies=all"})
    assert response.headers["Location"] == f"/post/{people['bob']}"
    # A post that answers nothing: the profile.
    response = client.post(f"/post/{people['alice']}/delete", data={"next": f"/post/{people['alice']}"})
    assert response.headers["Location"] == "/user/alice"


def test_a_fetch_call_gets_json_and_stays(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post(f"/post/{people['alice']}/delete", data={"next": "/index"}, headers=JSON)
    assert response.status_code == 200
    assert response.json == {"message": "Your post has been deleted.", "location": None}
    assert not exists(app, people["alice"])
    # Nothing flashed for later: the page said it already.
    assert "Your post has been deleted." not in client.get("/index").get_data(as_text=True)


def test_the_post_s_own_page_is_left_after_a_fetch_delete(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post(f"/post/{people['alice']}/delete", data={"next": f"/post/{people['alice']}"},
                           headers=JSON)
    assert response.json["location"] == "/user/alice"


def test_only_the_author_is_asked(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    assert client.get(f"/post/{people['bob']}/delete/confirm").status_code == 403
    assert client.get("/post/999999/delete/confirm").status_code == 404
    assert client.post(f"/post/{people['bob']}/delete", data={"next": "/index"}).status_code == 403
    assert exists(app, people["bob"])


def test_signed_out_the_confirm_pages_lead_to_sign_in(client, people):
    for path in (f"/post/{people['alice']}/delete/confirm", "/block/bob/confirm", "/unblock/bob/confirm"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# -- blocking and unblocking -------------------------------------------------------------------------

def test_block_asks_on_a_page_of_its_own(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    profile = client.get("/user/bob").get_data(as_text=True)
    assert 'action="/block/bob/confirm" method="get"' in profile
    response = client.get("/block/bob/confirm", query_string={"next": "/user/bob?page=2"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Block bob?" in html and "the follows between you" in html
    assert 'method="post" action="/block/bob"' in html and hidden(html, "next") == "/user/bob?page=2"
    assert not blocked(app)
    response = client.post("/block/bob", data={"next": hidden(html, "next")})
    assert response.headers["Location"] == "/user/bob?page=2"
    assert blocked(app)


def test_block_refuses_an_outside_next(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post("/block/bob", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/user/bob"


def test_unblock_says_the_follows_are_not_restored(app, client, auth, people):
    with app.app_context():
        make_block(find_user("alice"), find_user("bob"))
    auth.login("alice", DEFAULT_PASSWORD)
    profile = client.get("/user/bob").get_data(as_text=True)
    assert 'action="/unblock/bob/confirm" method="get"' in profile
    page = client.get("/unblock/bob/confirm").get_data(as_text=True)
    assert "Unblock bob?" in page and "are not restored" in page
    assert blocked(app)
    response = client.post("/unblock/bob", data={"next": "/settings/muted"}, follow_redirects=True)
    assert response.request.path == "/settings/muted"
    assert "You have unblocked bob. The follows that the block ended are not restored." in response.get_data(
        as_text=True)
    assert not blocked(app)


def test_the_muted_page_unblocks_through_the_confirmation(app, client, auth, people):
    with app.app_context():
        make_block(find_user("alice"), find_user("bob"))
    auth.login("alice", DEFAULT_PASSWORD)
    html = client.get("/settings/muted").get_data(as_text=True)
    assert 'action="/unblock/bob/confirm" method="get"' in html


def test_block_by_fetch_answers_json(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post("/block/bob", headers=JSON)
    assert response.status_code == 200 and response.json == {"message": "You have blocked bob."}
    response = client.post("/block/alice", headers=JSON)
    assert response.status_code == 422 and response.json == {"message": "You cannot block yourself."}


# -- CSRF and GET ----------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_follow(alice, bob)
        make_post(alice, "to be deleted")
    return app


def signed_in(app):
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": token})
    return client


@pytest.mark.parametrize("confirm, action", [("/post/{id}/delete/confirm", "/post/{id}/delete"),
                                             ("/block/bob/confirm", "/block/bob")])
def test_the_confirm_page_s_form_carries_the_token_and_nothing_works_without_it(csrf_app, confirm, action):
    with csrf_app.app_context():
        post_id = db.session.scalar(sa.select(Post.id))
    client = signed_in(csrf_app)
    html = client.get(confirm.format(id=post_id)).get_data(as_text=True)
    token = hidden(html, "csrf_token")
    assert client.post(action.format(id=post_id), data={"next": "/index"}).status_code == 400
    assert client.post(action.format(id=post_id), data={"next": "/index"}, headers=JSON).status_code == 400
    assert exists(csrf_app, post_id) and not blocked(csrf_app)
    response = client.post(action.format(id=post_id), data={"next": "/index", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/index"


def test_get_changes_nothing(app, client, auth, people):
    auth.login("alice", DEFAULT_PASSWORD)
    for path in (f"/post/{people['alice']}/delete", "/block/bob", "/unblock/bob"):
        assert client.get(path).status_code == 405
    for path in (f"/post/{people['alice']}/delete/confirm", "/block/bob/confirm", "/unblock/bob/confirm"):
        assert client.get(path).status_code == 200
    assert exists(app, people["alice"]) and not blocked(app)
    with app.app_context():
        assert find_user("alice").is_following(find_user("bob"))


@pytest.mark.parametrize("target, gone", [
    ("/post/7", True), ("/post/7?replies=all", True), ("/post/7/", True), ("/post/7/history", True),
    ("/post/70", False), ("/post/8", False), ("/user/alice?page=2", False),
])
def test_leads_to_knows_the_pages_of_a_deleted_post(target, gone):
    from microblog.redirects import leads_to, safe_next

    assert leads_to(target, "/post/7") is gone
    assert safe_next(target, "/fallback") == target
    assert safe_next("//evil.example", "/fallback") == "/fallback"
