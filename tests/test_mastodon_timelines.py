"""Mastodon's timelines through the real stack (docs: methods/timelines, bookmarks, favourites,
accounts#statuses): shapes, order, reblogs, paging both ways by Link header, visibility, scopes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from microblog.extensions import db
from microblog.mastodon.status_entity import REBLOG_ID_OFFSET
from microblog.models import Announce, Block, Mute, Post, Tag, User, Visibility
from microblog.services import posts, reactions, tags
from microblog.timeutil import utcnow
from tests.factories import basic, make_follow, make_user
from tests.mastodon_helpers import issued_token
from tests.mastodon_live import consent_in_browser
from tests.statements import counting
from tests.test_mastodon_client import OOB, SCOPES, Mastodon

STATUS_KEYS = {"id", "uri", "url", "created_at", "edited_at", "account", "content", "visibility", "sensitive",
               "spoiler_text", "media_attachments", "application", "mentions", "tags", "emojis",
               "reblogs_count", "favourites_count", "replies_count", "in_reply_to_id",
               "in_reply_to_account_id", "reblog", "poll", "card", "language", "filtered"}


def post_at(author: User, body: str, minutes_ago: int, visibility: str = Visibility.PUBLIC.value,
            in_reply_to: Post | None = None) -> Post:
    """A post made ``minutes_ago`` (each test's posts in a known order)."""
    reply = {"in_reply_to_id": in_reply_to.id, "in_reply_to_user_id": in_reply_to.user_id, "is_reply": True} \
        if in_reply_to is not None else {}
    post = Post(body=body, author=author, timestamp=utcnow() - timedelta(minutes=minutes_ago),
                visibility=visibility, **reply)
    db.session.add(post)
    tags.file_post(post)
    db.session.commit()
    return post


def repost_at(user: User, post: Post, minutes_ago: int) -> int:
    reactions.repost(user, post.id)
    announce = db.session.scalar(sa.select(Announce).where(Announce.user_id == user.id,
                                                           Announce.post_id == post.id))
    announce.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return announce.id + REBLOG_ID_OFFSET


@pytest.fixture
def site(app):
    """alice follows bob and dave; carol is a stranger to her; #tea exists. Returns alice's token headers."""
    with app.app_context():
        alice, bob, carol, dave = (make_user(name) for name in ("alice", "bob", "carol", "dave"))
        make_follow(alice, bob)
        make_follow(alice, dave)
        db.session.add(Tag(name="tea"))  # a hashtag that exists, on no post yet
        db.session.commit()
        return issued_token(alice)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [entity["id"] for entity in response.json]


def links(response) -> dict[str, str]:
    """rel -> path and query of the Link header."""
    found = {}
    for part in response.headers.get("Link", "").split(", "):
        if part:
            url, rel = part.split("; ")
            parts = urlsplit(url.strip("<>"))
            found[rel.split('"')[1]] = f"{parts.path}?{parts.query}"
    return found


def walk(client, headers, path: str, rel: str) -> list[list[str]]:
    """Every page from ``path`` following ``rel`` links until a page is empty."""
    pages = []
    while True:
        response = client.get(path, headers=headers)
        page = ids(response)
        if not page:
            return pages
        pages.append(page)
        path = links(response)[rel]


def by_name(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


# -- home -----------------------------------------------------------------------------------------------
def test_home_has_posts_and_reblogs_newest_first(app, client, site):
    with app.app_context():
        alice, bob, carol = by_name("alice"), by_name("bob"), by_name("carol")
        stranger = post_at(carol, "carol speaks #tea", 30)
        own = post_at(alice, "alice speaks", 20)
        reblog_id = repost_at(bob, stranger, 10)
        followed = post_at(bob, "bob speaks", 5)
        expected = [str(followed.id), str(reblog_id), str(own.id)]
    response = client.get("/api/v1/timelines/home", headers=site)
    assert ids(response) == expected
    reblog = response.json[1]
    assert set(reblog) >= STATUS_KEYS and reblog["account"]["username"] == "bob" and reblog["content"] == ""
    assert reblog["reblog"]["account"]["username"] == "carol" and reblog["reblog"]["tags"][0]["name"] == "tea"
    assert response.json[0]["reblog"] is None and response.json[0]["favourited"] is False


def test_home_pages_both_ways_by_link_without_gaps_or_duplicates(app, client, site):
    with app.app_context():
        bob, carol, dave = by_name("bob"), by_name("carol"), by_name("dave")
        for minute in range(1, 24):
            post_at(bob if minute % 2 else dave, f"post {minute}", minute * 2)
        for minute in range(3):
            repost_at(bob, post_at(carol, f"shared {minute}", 100 + minute), minute * 2 + 1)
    everything = ids(client.get("/api/v1/timelines/home?limit=40", headers=site))
    assert len(everything) == 26 and len(set(everything)) == 26
    down = walk(client, site, "/api/v1/timelines/home?limit=4", "next")
    assert [entry for page in down for entry in page] == everything
    assert all(len(page) == 4 for page in down[:-1])
    # From the oldest entry up by prev links (min_id): the pages just above, oldest page last.
    up = walk(client, site, f"/api/v1/timelines/home?limit=4&min_id={everything[-1]}", "prev")
    assert [entry for page in reversed(up) for entry in page] == everything[:-1]


def test_since_id_is_the_newest_and_min_id_just_above(app, client, site):
    with app.app_context():
        bob = by_name("bob")
        for minute in range(10):
            post_at(bob, f"post {minute}", minute)
    everything = ids(client.get("/api/v1/timelines/home", headers=site))
    since = ids(client.get(f"/api/v1/timelines/home?since_id={everything[8]}&limit=3", headers=site))
    above = ids(client.get(f"/api/v1/timelines/home?min_id={everything[8]}&limit=3", headers=site))
    assert since == everything[:3] and above == everything[5:8]
    between = ids(client.get(f"/api/v1/timelines/home?max_id={everything[1]}&since_id={everything[5]}",
                             headers=site))
    assert between == everything[2:5]
    assert ids(client.get(f"/api/v1/timelines/home?min_id={everything[0]}", headers=site)) == []


def test_home_leaves_out_what_alice_may_not_see(app, client, site):
    with app.app_context():
        alice, bob, carol, dave = (by_name(name) for name in ("alice", "bob", "carol", "dave"))
        private = post_at(bob, "for followers", 3, Visibility.FOLLOWERS.value)
        post_at(carol, "not for alice", 2, Visibility.FOLLOWERS.value)
        post_at(dave, "dave is muted", 1)
        db.session.add(Mute(muter_id=alice.id, muted_id=dave.id))
        db.session.commit()
        expected = [str(private.id)]
    assert ids(client.get("/api/v1/timelines/home", headers=site)) == expected


def test_a_home_page_costs_a_few_statements_whatever_its_size_or_depth(app, client, site):
    with app.app_context():
        bob, carol = by_name("bob"), by_name("carol")
        for minute in range(30):
            post_at(bob, f"post {minute} #tag @carol", minute * 2)
        for minute in range(5):
            repost_at(bob, post_at(carol, f"shared {minute}", 100 + minute), minute * 2 + 1)
    client.get("/api/v1/timelines/home", headers=site)  # the token's last use is written once
    counts = set()
    for query in ("limit=5", "limit=20", "limit=5&max_id={}", "limit=20&min_id={}"):
        middle = ids(client.get("/api/v1/timelines/home?limit=40", headers=site))[12]
        with counting(app) as statements:
            response = client.get("/api/v1/timelines/home?" + query.format(middle), headers=site)
        assert response.status_code == 200 and response.json
        counts.add(len(statements) - ("_id=" in query))  # a paged request looks its id up
    # the token with its user, the two walks, the page's posts, the reposters (when the page has a
    # reblog), the statuses' two reads (viewer state with mentions and tags, the accounts' last days)
    assert max(counts) <= 6, counts


# -- public and tags ---------------------------------------------------------------------------------
def test_public_has_public_posts_for_anyone(app, client, site):
    with app.app_context():
        alice, bob, carol = by_name("alice"), by_name("bob"), by_name("carol")
        shown = post_at(carol, "public #tea", 3)
        post_at(carol, "unlisted", 2, Visibility.UNLISTED.value)
        post_at(bob, "followers only", 1, Visibility.FOLLOWERS.value)
        blocked = post_at(by_name("dave"), "dave, blocked", 0)
        db.session.add(Block(blocker_id=alice.id, blocked_id=blocked.user_id))
        db.session.commit()
        expected, blocked_id = [str(shown.id)], str(blocked.id)
    assert ids(client.get("/api/v1/timelines/public")) == [blocked_id, *expected]
    assert ids(client.get("/api/v1/timelines/public?local=true", headers=site)) == expected
    assert ids(client.get("/api/v1/timelines/public?remote=true", headers=site)) == []
    assert ids(client.get("/api/v1/timelines/public?only_media=1", headers=site)) == []
    assert set(client.get("/api/v1/timelines/public").json[0]) == STATUS_KEYS  # signed out: no viewer keys


def test_tag_timeline_with_any_all_none(app, client, site):
    with app.app_context():
        carol = by_name("carol")
        tea = posts.publish_post(carol, "just #tea")
        both = posts.publish_post(carol, "#tea and #cake")
        cake = posts.publish_post(carol, "only #cake")
        posts.publish_post(carol, "hidden #tea", visibility=Visibility.UNLISTED.value)
        db.session.commit()
        tea, both, cake = str(tea.id), str(both.id), str(cake.id)
    base = "/api/v1/timelines/tag/"
    assert ids(client.get(base + "Tea")) == [both, tea]
    assert ids(client.get(base + "tea?all[]=cake", headers=site)) == [both]
    assert ids(client.get(base + "tea?none[]=cake", headers=site)) == [tea]
    assert ids(client.get(base + "tea?any[]=cake&any[]=nothing", headers=site)) == [cake, both, tea]
    assert ids(client.get(base + "tea?limit=1", headers=site)) == [both]
    assert ids(client.get(base + f"tea?max_id={both}", headers=site)) == [tea]
    for unknown in ("unknown", "%20", "x" * 300):
        response = client.get(base + unknown)
        assert response.status_code == 404 and response.json == {"error": "Record not found"}


# -- bookmarks and favourites ---------------------------------------------------------------------
@pytest.mark.parametrize(("path", "add"), [("/api/v1/bookmarks", reactions.bookmark),
                                           ("/api/v1/favourites", reactions.like)])
def test_bookmarks_and_favourites_page_by_their_own_rows(app, client, site, path, add):
    with app.app_context():
        alice, carol = by_name("alice"), by_name("carol")
        made = [post_at(carol, f"post {n}", 10 - n) for n in range(5)]
        for post in reversed(made):  # the newest post bookmarked first: bookmark order is not post order
            add(alice, post.id)
            db.session.commit()
        expected = [str(post.id) for post in made]
    response = client.get(path + "?limit=2", headers=site)
    assert ids(response) == expected[:2]
    assert "max_id=" in links(response)["next"] and "limit=2" in links(response)["next"]
    pages = walk(client, site, path + "?limit=2", "next")
    assert [entry for page in pages for entry in page] == expected
    second = client.get(links(response)["next"], headers=site)
    assert ids(second) == expected[2:4]
    assert ids(client.get(links(second)["prev"], headers=site)) == expected[:2]
    assert ids(client.get(path + "?max_id=abc&min_id=99999999", headers=site)) == expected
    with app.app_context():
        other = issued_token(by_name("bob"))
    assert ids(client.get(path, headers=other)) == []  # each user's own
    assert ids(client.get(path + "?max_id=3", headers=other)) == []  # alice's row ids name nothing of bob's


# -- an account's statuses ------------------------------------------------------------------------
def test_account_statuses_and_their_filters(app, client, site):
    with app.app_context():
        bob, carol = by_name("bob"), by_name("carol")
        first = post_at(bob, "first #tea", 50)
        thread = post_at(bob, "more", 40, in_reply_to=first)
        theirs = post_at(carol, "carol", 35)
        reply = post_at(bob, "answer", 30, in_reply_to=theirs)
        reblog = repost_at(bob, theirs, 20)
        secret = post_at(bob, "followers", 10, Visibility.FOLLOWERS.value)
        bob_id, theirs_id = bob.id, theirs.id
        first, thread, reply, secret = (str(post.id) for post in (first, thread, reply, secret))
    path = f"/api/v1/accounts/{bob_id}/statuses"
    assert ids(client.get(path, headers=site)) == [secret, str(reblog), reply, thread, first]
    assert ids(client.get(path)) == [str(reblog), reply, thread, first]  # signed out: no followers-only
    assert ids(client.get(path + "?exclude_reblogs=true", headers=site)) == [secret, reply, thread, first]
    no_replies = ids(client.get(path + "?exclude_replies=true", headers=site))
    assert no_replies == [secret, str(reblog), thread, first]
    assert ids(client.get(path + "?tagged=Tea", headers=site)) == [first]
    assert ids(client.get(path + "?only_media=true", headers=site)) == []
    assert ids(client.get(path + "?pinned=true", headers=site)) == []
    assert ids(client.get(path + f"?limit=2&max_id={reblog}", headers=site)) == [reply, thread]
    assert ids(client.get(path + f"?limit=2&min_id={thread}", headers=site)) == [str(reblog), reply]
    with app.app_context():
        post_at(by_name("carol"), "for carol's followers", 1, Visibility.FOLLOWERS.value)
        carol_id = by_name("carol").id
    assert ids(client.get(f"/api/v1/accounts/{carol_id}/statuses", headers=site)) == [str(theirs_id)]


@pytest.mark.parametrize("account_id", ["abc", "99999999", "0", "-1", "9" * 30])
def test_an_unknown_account_is_not_found(client, site, account_id):
    response = client.get(f"/api/v1/accounts/{account_id}/statuses", headers=site)
    assert response.status_code == 404 and response.json == {"error": "Record not found"}


def test_a_deactivated_account_is_not_found(app, client, site):
    with app.app_context():
        bob = by_name("bob")
        bob.deactivated_at = utcnow()
        db.session.commit()
        bob_id = bob.id
    assert client.get(f"/api/v1/accounts/{bob_id}/statuses", headers=site).status_code == 404


# -- tokens, scopes, bad input ----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/timelines/home", "/api/v1/bookmarks", "/api/v1/favourites",
                                  "/api/v1/timelines/list/1"])
def test_no_token_is_401(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.json == {"error": "The access token is invalid"}


@pytest.mark.parametrize(("path", "scope"), [
    ("/api/v1/timelines/home", "read:accounts"), ("/api/v1/bookmarks", "read:statuses"),
    ("/api/v1/favourites", "read:bookmarks"), ("/api/v1/timelines/public", "write"),
    ("/api/v1/timelines/tag/tea", "read:accounts"), ("/api/v1/accounts/1/statuses", "write:statuses")])
def test_a_token_without_the_scope_is_403(app, client, site, path, scope):
    with app.app_context():
        headers = issued_token(by_name("carol"), scope)
    assert client.get(path, headers=headers).status_code == 403


@pytest.mark.parametrize("scope", ["read", "read:statuses"])
def test_home_accepts_read_or_read_statuses(app, client, site, scope):
    with app.app_context():
        headers = issued_token(by_name("carol"), scope)
    assert client.get("/api/v1/timelines/home", headers=headers).status_code == 200


def test_there_are_no_lists(client, site):
    for list_id in ("1", "abc"):
        response = client.get(f"/api/v1/timelines/list/{list_id}", headers=site)
        assert response.status_code == 404 and response.json == {"error": "Record not found"}


GARBAGE = ["max_id=abc", "since_id=-1", "min_id=99999999999999999999999", "limit=-5", "limit=abc", "max_id=",
           "max_id=1000000000000099", "any[]=&all[]=%00&none[]=" + "x" * 300, "only_media=maybe",
           "tagged=%F0%9F", "local=1&remote=0&exclude_replies=&exclude_reblogs[]=1", "any=tea&all=1&none=2"]


@pytest.mark.parametrize("path", ["/api/v1/timelines/home", "/api/v1/timelines/public",
                                  "/api/v1/timelines/tag/tea", "/api/v1/bookmarks", "/api/v1/favourites",
                                  "/api/v1/accounts/2/statuses"])
def test_garbage_parameters_are_ignored(client, site, path):
    for query in GARBAGE:
        response = client.get(f"{path}?{query}", headers=site)
        assert response.status_code == 200 and response.json == [], query


def test_every_path_answers_with_and_without_a_trailing_slash(client, site):
    for path in ("/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/tea",
                 "/api/v1/bookmarks", "/api/v1/favourites", "/api/v1/accounts/2/statuses", "/api/v1/markers"):
        plain, slashed = client.get(path, headers=site), client.get(path + "/", headers=site)
        assert plain.status_code == slashed.status_code == 200 and plain.json == slashed.json, path


# -- a real client ----------------------------------------------------------------------------------
def test_mastodon_py_pages_the_home_timeline_and_keeps_a_marker(live):
    """Mastodon.py over HTTP: posts made through our own API, read back page by page through the Link
    headers (fetch_next, fetch_previous), and a marker saved and read back."""
    own = requests.post(f"{live}/api/tokens", headers=basic("alice"), timeout=30).json()["token"]
    for n in range(5):
        created = requests.post(f"{live}/api/posts", json={"body": f"post {n} #tea"}, timeout=30,
                                headers={"Authorization": f"Bearer {own}"})
        assert created.status_code == 201, created.text
    client_id, client_secret = Mastodon.create_app("pytest client", scopes=SCOPES, redirect_uris=OOB,
                                                   api_base_url=live)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=live)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    api.log_in(code=consent_in_browser(live, url), redirect_uri=OOB, scopes=SCOPES, allow_http=True)

    first = api.timeline_home(limit=2)
    second = api.fetch_next(first)
    third = api.fetch_next(second)
    shown = [*first, *second, *third]
    assert [status.content.split(" <a")[0] for status in shown] == [f"<p>post {n}" for n in range(4, -1, -1)]
    assert not api.fetch_next(third)
    assert [status.id for status in api.fetch_previous(second)] == [status.id for status in first]
    assert [status.id for status in api.timeline_hashtag("tea", limit=5)] == [status.id for status in shown]

    api.markers_set(["home"], [first[0].id])
    marker = api.markers_get(["home"])["home"]
    assert str(marker.last_read_id) == str(first[0].id) and marker.version == 0
