"""Keyset pagination: every list walks the same way forwards and back, old ?page=N links keep working,
and a cursor that is not ours is a 404 (never a 500)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from microblog.extensions import db
from microblog.models import User
from microblog.paging import decode_cursor, encode_cursor
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_post, make_posts, make_user, token_for

PER_PAGE = 3


def post_ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="post-(\d+)"', html)]


def people_on(html: str) -> list[str]:
    return re.findall(r'<a class="fw-semibold" href="/user/([^"]+)">', html)


def rel_link(html: str, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def walk(client, url: str, rel: str, items) -> list[list]:
    """Every page from ``url`` following ``rel`` links: the items of each page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        pages.append(items(html))
        url = rel_link(html, rel)
    return pages


@pytest.fixture
def app(make_app) -> Flask:
    return make_app(POSTS_PER_PAGE=PER_PAGE, USERS_PER_PAGE=PER_PAGE)


@pytest.fixture
def world(app):
    """alice follows bob; bob and carol post, some of them at the very same instant (ties on time)."""
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
        make_follow(alice, bob)
        for i in range(7):
            make_post(bob, f"bob {i}", now - timedelta(minutes=10 - i))
            make_post(carol, f"carol {i}", now - timedelta(minutes=10 - i))  # same instant as bob's
        make_posts(alice, 4)
        for i in range(7):
            make_follow(make_user(f"fan{i}"), bob)
        return {"alice": alice.id, "bob": bob.id}


def expected_ids(app, query_name: str, username: str | None = None) -> list[int]:
    from microblog.models import Post

    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username=username)) if username else None
        query = {"explore": lambda: Post.explore_select(), "timeline": lambda: user.timeline_select(),
                 "profile": lambda: user.posts_select()}[query_name]()
        return [p.id for p in db.session.scalars(query).unique()]


@pytest.mark.parametrize(("url", "query_name", "username"), [
    ("/explore", "explore", None), ("/index", "timeline", "alice"), ("/user/bob", "profile", "bob"),
])
def test_walking_older_then_newer_visits_every_post_once_in_order(client, auth, app, world, url, query_name,
                                                                  username):
    auth.login()
    everything = expected_ids(app, query_name, username)
    assert len(everything) > 2 * PER_PAGE
    older = walk(client, url, "next", post_ids_on)
    assert [i for page in older for i in page] == everything
    assert all(len(page) == PER_PAGE for page in older[:-1])
    # From the last page back to the first, through the rel="prev" links.
    last_url = None
    url_now = url
    while url_now:
        last_url = url_now
        url_now = rel_link(client.get(url_now).get_data(as_text=True), "next")
    newer = walk(client, last_url, "prev", post_ids_on)
    assert newer == older[::-1]


def test_follower_lists_page_by_cursor(client, app, world):
    pages = walk(client, "/user/bob/followers", "next", people_on)
    names = [name for page in pages for name in page]
    assert sorted(names) == sorted(["alice", *(f"fan{i}" for i in range(7))])
    assert len(names) == len(set(names)) and len(pages) == 3
    assert names[0] == "fan6"  # the newest follow first


def test_page_numbers_still_work_and_link_on_by_cursor(client, app, world):
    everything = expected_ids(app, "explore")
    html = client.get("/explore?page=3").get_data(as_text=True)
    assert post_ids_on(html) == everything[2 * PER_PAGE:3 * PER_PAGE]
    assert "Page 3" in html
    assert rel_link(html, "next").startswith("/explore?before=")
    assert rel_link(html, "prev").startswith("/explore?after=")
    previous = client.get(rel_link(html, "prev")).get_data(as_text=True)
    assert post_ids_on(previous) == everything[PER_PAGE:2 * PER_PAGE]
    assert "Page 4" in client.get(rel_link(html, "next")).get_data(as_text=True)


def test_newer_from_a_deep_page_reaches_posts_published_since(client, auth, app, world):
    first = client.get("/explore").get_data(as_text=True)
    second_url = rel_link(first, "next")
    with app.app_context():
        fresh = make_post(db.session.get(User, world["bob"]), "just now").id
    top = client.get(rel_link(client.get(second_url).get_data(as_text=True), "prev")).get_data(as_text=True)
    # The old first page, which now has one newer post above it: the link goes on up to it.
    assert rel_link(top, "prev") is not None
    newest = client.get(rel_link(top, "prev")).get_data(as_text=True)
    assert post_ids_on(newest)[0] == fresh and rel_link(newest, "prev") is None


def forged_cursors(app) -> list[str]:
    with app.test_request_context():
        good = encode_cursor((utcnow(), 5), 2)
    other = Flask("other")
    other.config["SECRET_KEY"] = "some other key entirely, at least thirty-two characters"
    with other.test_request_context():
        foreign = encode_cursor((utcnow(), 5), 2)
    body, _, signature = good.rpartition(".")
    return ["", "x", "abc.def", good[:-2], body + ".AAAA" + signature[4:], foreign, good + "x",
            "W1swLCJhIiwyXV0.bad", "A" * 300, "%00", "../../etc/passwd", "１２３"]


@pytest.mark.parametrize("path", [
    "/", "/explore", "/user/bob", "/user/bob/followers", "/user/bob/following",
    "/api/posts", "/api/timeline", "/api/users/2/posts", "/api/users/2/followers",
])
@pytest.mark.parametrize("arg", ["before", "after"])
def test_cursors_that_are_not_ours_are_404_not_500(client, auth, app, world, path, arg):
    auth.login()
    headers = token_for(client) if path.startswith("/api/") else {}
    for cursor in forged_cursors(app):
        response = client.get(path, query_string={arg: cursor}, headers=headers)
        assert response.status_code == 404, (path, cursor)


def test_before_and_after_together_is_404(client, app, world):
    with app.test_request_context():
        cursor = encode_cursor((utcnow(), 1), 2)
    assert client.get("/explore", query_string={"before": cursor, "after": cursor}).status_code == 404


def test_a_cursor_past_the_end_is_404(client, app, world):
    with app.test_request_context():
        cursor = encode_cursor((utcnow() - timedelta(days=3650), 1), 9)
    assert client.get("/explore", query_string={"before": cursor}).status_code == 404


def test_cursor_round_trip_keeps_microseconds(app):
    moment = utcnow()
    with app.test_request_context():
        assert decode_cursor(encode_cursor((moment, 42), 7)) == ((moment, 42), 7)


def test_api_lists_link_on_by_cursor_to_the_end(client, app, world):
    everything = expected_ids(app, "explore")
    url, seen = f"/api/posts?per_page={PER_PAGE}", []
    while url:
        body = client.get(url).json
        seen += [p["id"] for p in body["items"]]
        url = body["_links"]["next"]
        assert url is None or "before=" in url
    assert seen == everything
