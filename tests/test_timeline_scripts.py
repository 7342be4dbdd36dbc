"""What the timeline and composer scripts ask the server: the new posts count (/timeline/newer.json)
and the composer's JSON answers (a fetch of POST / and POST /post/<id>/reply)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Announce, Post, User
from microblog.paging import encode_cursor
from microblog.services.posts import body_length
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_post, make_posts, make_user
from tests.statements import counting

JSON = {"Accept": "application/json"}



@pytest.fixture
def site(app):
    """alice follows bob; the home page's top is bob's post ``top``."""
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_user("carol")
        make_follow(alice, bob)
        top = make_post(bob, "the top", timestamp=utcnow() - timedelta(hours=1))
        cursor = encode_cursor((top.timestamp, top.id), 1)
    return {"cursor": cursor}


def login(client, username: str = "alice") -> None:
    client.post("/auth/login", data={"username": username, "password": "correct-horse"})


def top_cursor(client) -> str:
    html = client.get("/index").get_data(as_text=True)
    match = re.search(r'data-top="([^"]*)"', html)
    assert match and match.group(1), "the home timeline names its top"
    return match.group(1)


def newer(client, cursor: str):
    return client.get(f"/timeline/newer.json?after={cursor}", headers=JSON)


def test_the_home_page_names_the_top_the_banner_asks_about(app, client, site):
    login(client)
    assert newer(client, top_cursor(client)).get_json() == {"count": 0, "more": False}


def test_newer_posts_are_counted_and_capped(app, client, site):
    login(client)
    cursor = top_cursor(client)
    with app.app_context():
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        carol = db.session.scalar(sa.select(User).where(User.username == "carol"))
        make_posts(bob, 2)
        make_post(carol, "not followed: not counted")
    answer = newer(client, cursor)
    assert answer.status_code == 200
    assert answer.get_json() == {"count": 2, "more": False}
    assert "no-store" in answer.headers["Cache-Control"]
    with app.app_context():
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        make_posts(bob, 30)
    assert newer(client, cursor).get_json() == {"count": 20, "more": True}


def test_a_repost_by_someone_followed_counts(app, client, site):
    login(client)
    cursor = top_cursor(client)
    with app.app_context():
        carol = db.session.scalar(sa.select(User).where(User.username == "carol"))
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        post = make_post(carol, "reposted by bob")
        db.session.add(Announce(user_id=bob.id, post_id=post.id, created_at=utcnow()))
        db.session.commit()
    assert newer(client, cursor).get_json() == {"count": 1, "more": False}


def test_signed_out_is_a_401(client, site):
    answer = newer(client, site["cursor"])
    assert answer.status_code == 401
    assert answer.is_json


@pytest.mark.parametrize("query", ["", "?after=", "?after=nonsense", "?after=" + "x" * 5000,
                                   "?after=%00%ff", "?after[]=1", "?before=abc"])
def test_a_bad_cursor_is_a_400(client, site, query):
    login(client)
    answer = client.get("/timeline/newer.json" + query, headers=JSON)
    assert answer.status_code == 400


def test_asking_is_read_only_and_cheap(app, client, site):
    login(client)
    cursor = top_cursor(client)
    newer(client, cursor)  # warm what a process caches
    with app.app_context():
        seen = db.session.scalar(sa.select(User.last_seen).where(User.username == "alice"))
    with counting(app) as statements:
        assert newer(client, cursor).status_code == 200
    writes = [s for s in statements if not s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert writes == []
    assert len(statements) <= 2, statements  # the session's account, then the count
    with app.app_context():
        assert db.session.scalar(sa.select(User.last_seen).where(User.username == "alice")) == seen


def test_post_only(client, site):
    login(client)
    assert client.post(f"/timeline/newer.json?after={site['cursor']}").status_code == 405


# -- the composer's answers -----------------------------------------------------------------------------
def test_a_fetch_post_gets_the_card(app, client, site):
    login(client)
    answer = client.post("/index", data={"post": "Hello 😀"}, headers=JSON)
    assert answer.status_code == 201
    data = answer.get_json()
    assert data["message"] == "Your post is now live!"
    assert f'id="post-{data["id"]}"' in data["html"] and "Hello 😀" in data["html"]
    assert "data-post-list" not in data["html"]  # a card, not a list
    assert 'name="next" value="/index"' in data["html"]  # its buttons come back to the page
    assert newer(client, data["top"]).get_json()["count"] == 0
    # Nothing is left to flash on the next page.
    assert "now live" not in client.get("/index").get_data(as_text=True)


@pytest.mark.parametrize(("body", "field", "message"), [
    ("", "post", "This field is required."),
    ("\u200b", "post", "A post needs at least one visible character."),
    ("x" * 281, "post", "A post is at most 280 characters (this one has 281)."),
])
def test_a_refused_fetch_post_gets_the_errors(app, client, site, body, field, message):
    login(client)
    answer = client.post("/index", data={"post": body}, headers=JSON)
    assert answer.status_code == 400
    errors = answer.get_json()["errors"]
    assert {"field": field, "messages": [message]} in errors
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1  # the top only


def test_a_refused_visibility_is_said_for_its_field(client, site):
    login(client)
    answer = client.post("/index", data={"post": "hi", "visibility": "everyone"}, headers=JSON)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.get_json()["errors"]] == ["visibility"]


def test_without_the_json_header_the_form_redirects_as_before(client, site):
    login(client)
    answer = client.post("/index", data={"post": "plain"})
    assert answer.status_code == 302


def test_a_fetch_post_needs_the_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse", "csrf_token": token})
    answer = client.post("/index", data={"post": "no token"}, headers=JSON)
    assert answer.status_code == 400
    assert answer.is_json
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_a_fetch_reply_gets_its_card_and_the_parents(app, client, site):
    login(client)
    with app.app_context():
        parent_id = db.session.scalar(sa.select(Post.id))
    answer = client.post(f"/post/{parent_id}/reply", data={"post": "a reply"}, headers=JSON)
    assert answer.status_code == 201
    data = answer.get_json()
    assert "a reply" in data["html"]
    assert list(data["changed"]) == [f"post-{parent_id}"]
    assert f'name="next" value="/post/{parent_id}"' in data["html"]
    refused = client.post(f"/post/{parent_id}/reply", data={"post": " "}, headers=JSON)
    assert refused.status_code == 400
    assert refused.get_json()["errors"][0]["field"] == "post"


@pytest.mark.parametrize("text", ["a\r\nb", "  x  ", "😀", "e\u0301", "\ufeffx", "\x85x\x85", "日本"])
def test_body_length_is_what_the_limit_counts(text):
    assert body_length(text) == len(text.replace("\r\n", "\n").strip())
