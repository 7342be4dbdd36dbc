"""Mastodon's search, tags and trends (docs: methods/search, methods/tags, methods/trends): the three
keys always, the type filter, offset and limit, hashtags by the start of their name with their week of
history, the visibility rules of our search, the index being down, and garbage never a 5xx."""

from __future__ import annotations

import shutil

import pytest

from microblog.extensions import db
from microblog.models import Visibility
from microblog.services import accounts, posts
from tests.factories import find_user, make_follow, make_user, signed_in_client
from tests.mastodon_helpers import bearer, token_with

KEYS = {"accounts", "statuses", "hashtags"}
TAG_KEYS = {"id", "name", "url", "history"}


@pytest.fixture
def world(app) -> dict[str, int]:
    """alice, bob, carol and a few of their posts, through the services (indexed after commit)."""
    with app.app_context():
        for name, about in (("alice", "Tea lover"), ("bob", "Photographer of tea fields"), ("carol", None)):
            accounts.update_profile(make_user(name), name, about)
        alice, bob = find_user("alice"), find_user("bob")
        ids = {
            "a1": posts.publish_post(alice, "Green tea in the morning #tea #teatime").id,
            "a2": posts.publish_post(alice, "Running, then more tea").id,
            "b1": posts.publish_post(bob, "Coffee is better than tea #coffee").id,
            "secret": posts.publish_post(bob, "secret tea recipe #teasecret",
                                         visibility=Visibility.FOLLOWERS.value).id,
        }
        db.session.commit()
    return ids


@pytest.fixture
def alice(app, world):
    """alice's signed-in client and her token."""
    client = signed_in_client(app, "alice")
    return client, token_with(client)


@pytest.fixture
def carol(app, world):
    client = signed_in_client(app, "carol")
    return client, token_with(client)


def ids(entities: list[dict]) -> set[int]:
    return {int(entity["id"]) for entity in entities}


# -- search ------------------------------------------------------------------------------------------
def test_search_has_the_three_keys_and_mastodons_shapes(alice, world):
    client, token = alice
    response = client.get("/api/v2/search", query_string={"q": "tea"}, headers=token)
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == KEYS
    assert ids(body["statuses"]) == {world["a1"], world["a2"], world["b1"]}
    status = body["statuses"][0]
    assert {"id", "account", "content", "favourited", "media_attachments"} <= set(status)
    assert {account["username"] for account in body["accounts"]} >= {"alice", "bob"}
    assert {"id", "username", "acct", "display_name", "avatar"} <= set(body["accounts"][0])
    names = [tag["name"] for tag in body["hashtags"]]
    assert names == ["tea", "teatime"]  # the exact name first; #teasecret is in no public post
    tag = body["hashtags"][0]
    assert set(tag) == TAG_KEYS | {"following", "featuring"} and tag["following"] is False
    assert tag["url"] == "http://microblog.test/tags/tea"
    assert len(tag["history"]) == 7
    today = tag["history"][0]
    assert today == {"day": today["day"], "uses": "1", "accounts": "1"}
    assert int(today["day"]) % 86400 == 0
    assert all(day["uses"] == "0" for day in tag["history"][1:])


def test_followers_only_posts_are_not_found(app, alice, carol, world):
    """As on /search: search lists public posts only, so a followers-only post is found by no stranger
    (and by no follower either: it is in their home timeline instead)."""
    with app.app_context():
        make_follow(find_user("carol"), find_user("bob"))
    stranger, token = alice
    found = stranger.get("/api/v2/search", query_string={"q": "secret", "type": "statuses"}, headers=token)
    assert found.status_code == 200 and found.json["statuses"] == []
    follower, token = carol
    found = follower.get("/api/v2/search", query_string={"q": "secret", "type": "statuses"}, headers=token)
    assert found.status_code == 200 and found.json["statuses"] == []
    hashtags = follower.get("/api/v2/search", query_string={"q": "#teasecret"}, headers=token).json
    assert hashtags["hashtags"] == []


def test_type_filters_and_an_unknown_type_finds_nothing(alice, world):
    client, token = alice
    for kind in ("accounts", "statuses", "hashtags"):
        body = client.get("/api/v2/search", query_string={"q": "tea", "type": kind}, headers=token).json
        assert set(body) == KEYS
        assert body[kind] and all(body[other] == [] for other in KEYS - {kind}), kind
    body = client.get("/api/v2/search", query_string={"q": "tea", "type": "videos"}, headers=token).json
    assert body == {"accounts": [], "statuses": [], "hashtags": []}


def test_offset_and_limit(alice, world):
    client, token = alice

    def found(**args) -> list[int]:
        body = client.get("/api/v2/search", query_string={"q": "tea", "type": "statuses", **args},
                          headers=token).json
        return [int(status["id"]) for status in body["statuses"]]

    everything = found()
    assert len(everything) == 3
    assert found(limit=2) == everything[:2]
    assert found(limit=2, offset=2) == everything[2:]
    assert found(limit=1, offset=1) == everything[1:2]
    assert found(limit=2, offset=1) == everything[1:3]  # an offset that is no whole page
    assert found(offset=100) == []
    assert len(found(limit=0)) == 1 and len(found(limit=500)) == 3  # clamped as Mastodon clamps


def test_account_id_keeps_one_authors_statuses(app, alice, world):
    client, token = alice
    with app.app_context():
        bob = find_user("bob").id
    body = client.get("/api/v2/search", query_string={"q": "tea", "account_id": bob}, headers=token).json
    assert ids(body["statuses"]) == {world["b1"]}
    for bad in ("abc", "99999999"):
        response = client.get("/api/v2/search", query_string={"q": "tea", "account_id": bad}, headers=token)
        assert response.status_code == 404 and response.json == {"error": "Record not found"}


def test_accounts_by_exact_name_first_and_following_only(app, alice):
    client, token = alice
    body = client.get("/api/v2/search", query_string={"q": "@bob", "type": "accounts"}, headers=token).json
    assert body["accounts"][0]["username"] == "bob"
    with app.app_context():
        make_follow(find_user("alice"), find_user("bob"))
    body = client.get("/api/v2/search", query_string={"q": "tea", "type": "accounts", "following": "true"},
                      headers=token).json
    assert [account["username"] for account in body["accounts"]] == ["bob"]


def test_without_a_token_no_statuses_and_no_offset_or_resolve(client, world):
    body = client.get("/api/v2/search", query_string={"q": "tea"}).json
    assert set(body) == KEYS and body["statuses"] == []
    assert body["accounts"] and body["hashtags"]
    paged = client.get("/api/v2/search", query_string={"q": "tea", "type": "accounts", "offset": 1})
    assert paged.status_code == 401
    assert paged.json == {"error": "Search queries pagination is not supported without authentication"}
    resolving = client.get("/api/v2/search", query_string={"q": "tea", "resolve": "true"})
    assert resolving.status_code == 401 and "resolve remote resources" in resolving.json["error"]


def test_q_is_required_and_tokens_are_checked(app, alice):
    client, token = alice
    for query in ({}, {"q": ""}, {"q": "   "}):
        response = client.get("/api/v2/search", query_string=query, headers=token)
        assert response.status_code == 400 and response.json == {
            "error": "param is missing or the value is empty: q"}
    bad = client.get("/api/v2/search", query_string={"q": "tea"}, headers=bearer("nope"))
    assert bad.status_code == 401 and bad.json["error"] == "The access token is invalid"
    wrong = client.get("/api/v2/search", query_string={"q": "tea"}, headers=token_with(client, "write"))
    assert wrong.status_code == 403
    narrow = client.get("/api/v2/search", query_string={"q": "tea"},
                        headers=token_with(client, "read:search"))
    assert narrow.status_code == 200 and narrow.json["statuses"]


@pytest.mark.parametrize("query", [
    {"q": "tea", "limit": "abc", "offset": "-5", "type": "statuses"},
    {"q": "tea", "limit": "1e9", "offset": "99999999999999999999", "type": "accounts"},
    {"q": "tea", "offset": "99999999999999999999", "type": "hashtags"},
    {"q": "tea", "offset": "99999999999999999999", "type": "statuses"},
    {"q": "#", "type": "hashtags"}, {"q": "#%_", "type": "hashtags"}, {"q": "\x00\x07 tea"},
    {"q": '"unclosed OR - * @ #', "following": "maybe", "exclude_unreviewed": "1", "resolve": "x"},
    {"q": "tea", "account_id": "-1"}, {"q": "x" * 5000}, {"q": ["tea", "coffee"]},
])
def test_garbage_is_never_a_5xx(alice, query):
    client, token = alice
    response = client.get("/api/v2/search", query_string=query, headers=token)
    assert response.status_code < 500 and response.is_json
    if response.status_code == 200:
        assert set(response.json) == KEYS


def test_a_missing_index_is_a_503_not_a_500(app, alice):
    client, token = alice
    shutil.rmtree(app.config["WHOOSH_INDEX_DIR"])
    response = client.get("/api/v2/search", query_string={"q": "tea"}, headers=token)
    assert response.status_code == 503 and response.json["error"] and response.headers["Retry-After"]
    assert client.get("/api/v2/search", query_string={"q": "tea"}, headers=token).status_code == 200


# -- tags and trends -----------------------------------------------------------------------------------
def test_a_tag_and_its_history(client, alice, world):
    response = client.get("/api/v1/tags/TEA")
    assert response.status_code == 200
    body = response.json
    assert set(body) == TAG_KEYS and body["name"] == "tea" and body["history"][0]["uses"] == "1"
    signed_in, token = alice
    assert signed_in.get("/api/v1/tags/tea", headers=token).json["following"] is False
    for name in ("nosuchtag", "teasecret", "%20", "a" * 300, "123"):
        missing = client.get(f"/api/v1/tags/{name}")
        assert missing.status_code == 404 and missing.json == {"error": "Record not found"}, name


def test_following_a_tag_is_refused_honestly(client, alice):
    signed_in, token = alice
    for action in ("follow", "unfollow"):
        response = signed_in.post(f"/api/v1/tags/tea/{action}", headers=token)
        assert response.status_code == 422 and "not supported" in response.json["error"]
        assert client.post(f"/api/v1/tags/tea/{action}").status_code == 401
        read_only = token_with(signed_in, "read")
        assert signed_in.post(f"/api/v1/tags/tea/{action}", headers=read_only).status_code == 403
    assert signed_in.get("/api/v1/followed_tags", headers=token).json == []


def test_trends(client, world):
    tags = client.get("/api/v1/trends/tags")
    assert tags.status_code == 200
    assert {tag["name"] for tag in tags.json} == {"tea", "teatime", "coffee"}
    assert all(set(tag) == TAG_KEYS and len(tag["history"]) == 7 for tag in tags.json)
    assert len(client.get("/api/v1/trends/tags", query_string={"limit": 1}).json) == 1
    assert len(client.get("/api/v1/trends/tags", query_string={"offset": 2, "limit": "x"}).json) == 1
    assert client.get("/api/v1/trends").json == tags.json
    for path in ("/api/v1/trends/statuses", "/api/v1/trends/links"):
        response = client.get(path)
        assert response.status_code == 200 and response.json == []
    assert client.get("/api/v1/trends/tags", headers=bearer("nope")).status_code == 401


@pytest.mark.parametrize("path", ["/api/v2/search?q=tea", "/api/v1/tags/tea", "/api/v1/trends/tags"])
def test_paths_answer_with_a_trailing_slash_too(client, world, path):
    base, _, query = path.partition("?")
    plain = client.get(path)
    slashed = client.get(base + "/" + ("?" + query if query else ""))
    assert plain.status_code == slashed.status_code == 200 and plain.json == slashed.json
