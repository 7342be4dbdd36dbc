"""Public pages and API reads carry an ETag and answer 304 when the client's copy is current."""

from __future__ import annotations

import pytest

from microblog.extensions import db
from microblog.models import User
from microblog.services import posts
from tests.factories import make_post, make_user, token_for


@pytest.fixture
def bob(app):
    with app.app_context():
        bob = make_user("bob")
        make_post(bob, "hello")
        return bob.id


@pytest.mark.parametrize("path", ["/explore", "/user/bob", "/user/bob/followers", "/", "/api/users/{bob}",
                                  "/api/posts", "/api/users/{bob}/posts", "/api/users/{bob}/followers"])
def test_public_pages_answer_304_to_a_current_copy(client, bob, path):
    url = path.format(bob=bob)
    first = client.get(url)
    assert first.status_code == 200 and first.headers.get("ETag")
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_the_etag_changes_with_the_content(client, app, bob):
    first = client.get("/api/posts")
    with app.app_context():
        posts.publish_post(db.session.get(User, bob), "news")
    second = client.get("/api/posts", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]


def test_personal_responses_get_no_validators(client, auth, app, bob):
    with app.app_context():
        make_user("alice")
    headers = token_for(client, "alice")
    assert "ETag" not in client.get("/api/posts", headers=headers).headers
    auth.login()
    for url in ("/", "/explore", "/user/bob"):
        assert "ETag" not in client.get(url).headers, url


def test_api_copies_may_be_shared_html_copies_stay_private(client, bob):
    assert "public" in client.get(f"/api/users/{bob}").headers["Cache-Control"]
    assert "private" in client.get("/explore").headers["Cache-Control"]


def test_a_page_stays_current_when_its_csrf_token_is_signed_later(client, bob, monkeypatch):
    """The footer's CSRF token is signed with the time; the ETag must not change with it."""
    import time as clock

    from itsdangerous import TimestampSigner

    first = client.get("/explore")
    later = int(clock.time()) + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    again = client.get("/explore", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
