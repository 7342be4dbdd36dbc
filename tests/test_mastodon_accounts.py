"""The Mastodon accounts API's reads and the profile edit: accounts by id, address and search, their
followers and follows (Link paging), relationships, familiar followers, update_credentials.

Following, blocking, muting and the token's own lists are in test_mastodon_account_actions.py."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from microblog.extensions import db
from microblog.models import User, Visibility, followers
from microblog.timeutil import utcnow
from tests.factories import find_user, make_block, make_follow, make_user
from tests.mastodon_account_helpers import people, token
from tests.media_samples import png_bytes

BAD_IDS = ["abc", "0", "-1", "99999999999", "1e3", "9" * 30]
RELATIONSHIP_KEYS = {"id", "following", "showing_reblogs", "notifying", "languages", "followed_by",
                     "blocking", "blocked_by", "muting", "muting_notifications", "muting_expires_at",
                     "requested", "requested_by", "domain_blocking", "endorsed", "note"}


@pytest.fixture
def ids(app):
    return people(app, "alice", "bob", "carol", "dave")


@pytest.fixture
def alice(app, ids):
    return token(app, "alice")


def follow(app, follower: str, followed: str) -> None:
    with app.app_context():
        make_follow(find_user(follower), find_user(followed))


def deactivate(app, name: str) -> None:
    with app.app_context():
        find_user(name).deactivated_at = utcnow()
        db.session.commit()


# -- one account ---------------------------------------------------------------------------------
def test_get_account_is_public_and_has_the_account_shape(client, ids, alice):
    follow(client.application, "alice", "bob")
    body = client.get(f"/api/v1/accounts/{ids['bob']}").json
    assert body["id"] == str(ids["bob"]) and body["acct"] == "bob" and body["followers_count"] == 1
    assert "source" not in body
    assert client.get(f"/api/v1/accounts/{ids['bob']}/", headers=alice).json == body


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("suffix", ["", "/followers", "/following"])
def test_bad_ids_are_404(client, ids, bad, suffix):
    response = client.get(f"/api/v1/accounts/{bad}{suffix}")
    assert response.status_code == 404 and response.json == {"error": "Record not found"}


@pytest.mark.parametrize("suffix", ["", "/followers", "/following"])
def test_a_deactivated_account_is_404(app, client, ids, suffix):
    deactivate(app, "bob")
    assert client.get(f"/api/v1/accounts/{ids['bob']}{suffix}").status_code == 404


def test_a_bad_token_on_a_public_read_is_401_and_a_wrong_scope_403(app, client, ids):
    bad = {"Authorization": "Bearer nope"}
    assert client.get(f"/api/v1/accounts/{ids['bob']}", headers=bad).status_code == 401
    response = client.get(f"/api/v1/accounts/{ids['bob']}", headers=token(app, "alice", "write"))
    assert response.status_code == 403


def test_multiple_accounts_in_the_order_asked_unknown_ones_left_out(app, client, ids):
    deactivate(app, "dave")
    query = [("id[]", ids["carol"]), ("id[]", "nope"), ("id[]", ids["dave"]), ("id[]", ids["bob"]),
             ("id[]", 99999)]
    body = client.get("/api/v1/accounts", query_string=query).json
    assert [entry["username"] for entry in body] == ["carol", "bob"]
    assert client.get("/api/v1/accounts").json == []


@pytest.mark.parametrize("acct", ["bob", "@bob", "BOB", "bob@microblog.test", "@bob@MICROBLOG.test"])
def test_lookup_finds_a_local_address(client, ids, acct):
    response = client.get("/api/v1/accounts/lookup", query_string={"acct": acct})
    assert response.status_code == 200 and response.json["id"] == str(ids["bob"])


@pytest.mark.parametrize("acct", ["", "nobody", "bob@elsewhere.example", "b", "bob@", "@", "x" * 500])
def test_lookup_of_anything_else_is_404(client, ids, acct):
    response = client.get("/api/v1/accounts/lookup", query_string={"acct": acct})
    assert response.status_code == 404 and response.json == {"error": "Record not found"}


def test_lookup_of_a_deactivated_account_is_404(app, client, ids):
    deactivate(app, "bob")
    assert client.get("/api/v1/accounts/lookup?acct=bob").status_code == 404


# -- followers and following, paged ---------------------------------------------------------------
def test_followers_newest_first_with_link_paging(app, client, ids):
    with app.app_context():
        bob = find_user("bob")
        fans = [make_user(f"fan{n}") for n in range(5)]
        start = utcnow() - timedelta(hours=1)
        for n, fan in enumerate(fans):
            db.session.execute(followers.insert().values(follower_id=fan.id, followed_id=bob.id,
                                                         created_at=start + timedelta(minutes=n)))
        db.session.commit()
        fan_ids = [str(fan.id) for fan in fans][::-1]  # newest follow first
    first = client.get(f"/api/v1/accounts/{ids['bob']}/followers?limit=2")
    assert [entry["id"] for entry in first.json] == fan_ids[:2]
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["Link"]))
    base = f"http://microblog.test/api/v1/accounts/{ids['bob']}/followers"
    assert links["next"] == f"{base}?limit=2&max_id={fan_ids[1]}"
    assert links["prev"] == f"{base}?limit=2&min_id={fan_ids[0]}"
    second = client.get(links["next"].removeprefix("http://microblog.test"))
    assert [entry["id"] for entry in second.json] == fan_ids[2:4]
    back = client.get(f"/api/v1/accounts/{ids['bob']}/followers?limit=2&min_id={fan_ids[2]}")
    assert [entry["id"] for entry in back.json] == fan_ids[:2]
    since = client.get(f"/api/v1/accounts/{ids['bob']}/followers?limit=2&since_id={fan_ids[2]}")
    assert [entry["id"] for entry in since.json] == fan_ids[:2]
    last = client.get(f"/api/v1/accounts/{ids['bob']}/followers?max_id={fan_ids[3]}")
    assert [entry["id"] for entry in last.json] == fan_ids[4:]
    empty = client.get(f"/api/v1/accounts/{ids['bob']}/followers?max_id={fan_ids[4]}")
    assert empty.json == [] and "Link" not in empty.headers


def test_following_and_deactivated_accounts_left_out(app, client, ids):
    for name in ("bob", "carol", "dave"):
        follow(app, "alice", name)
    deactivate(app, "carol")
    body = client.get(f"/api/v1/accounts/{ids['alice']}/following").json
    assert {entry["username"] for entry in body} == {"bob", "dave"}


def test_an_account_hides_its_followers_and_follows_from_whom_it_blocked(app, client, ids):
    follow(app, "carol", "bob")
    follow(app, "bob", "dave")
    with app.app_context():
        make_block(find_user("bob"), find_user("alice"))
    alice, carol = token(app, "alice"), token(app, "carol")
    for suffix in ("followers", "following"):
        url = f"/api/v1/accounts/{ids['bob']}/{suffix}"
        assert client.get(url, headers=alice).json == []
        assert len(client.get(url).json) == 1 and len(client.get(url, headers=carol).json) == 1


@pytest.mark.parametrize("limit", ["0", "-5", "abc", "1000", ""])
def test_a_bad_limit_is_clamped_not_refused(client, ids, limit):
    follow(client.application, "alice", "bob")
    response = client.get(f"/api/v1/accounts/{ids['bob']}/followers", query_string={"limit": limit})
    assert response.status_code == 200 and len(response.json) == 1


# -- relationships and familiar followers ------------------------------------------------------------
def test_relationships_for_several_ids(app, client, ids, alice):
    follow(app, "alice", "bob")
    follow(app, "bob", "alice")
    follow(app, "carol", "alice")
    query = [("id[]", ids["bob"]), ("id[]", ids["carol"]), ("id[]", ids["dave"]), ("id[]", "abc")]
    body = client.get("/api/v1/accounts/relationships", query_string=query, headers=alice).json
    assert [entry["id"] for entry in body] == [str(ids["bob"]), str(ids["carol"]), str(ids["dave"])]
    assert all(set(entry) == RELATIONSHIP_KEYS for entry in body)
    bob, carol, dave = body
    assert bob["following"] and bob["followed_by"] and bob["showing_reblogs"] and not bob["blocking"]
    assert not carol["following"] and carol["followed_by"]
    assert not any(value for key, value in dave.items() if key != "id")
    assert bob["note"] == "" and bob["languages"] is None and bob["muting_expires_at"] is None
    single = client.get(f"/api/v1/accounts/relationships?id={ids['bob']}", headers=alice).json
    assert single == [bob]


def test_relationships_need_a_user_token_with_read_follows(app, client, ids):
    url = f"/api/v1/accounts/relationships?id[]={ids['bob']}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=token(app, "alice", "read:statuses")).status_code == 403
    assert client.get(url, headers=token(app, "alice", "follow")).status_code == 200
    assert client.get(url, headers=token(app, "alice", "read:follows")).status_code == 200


def test_familiar_followers(app, client, ids, alice):
    follow(app, "alice", "carol")
    follow(app, "carol", "bob")
    follow(app, "dave", "bob")
    query = [("id[]", ids["bob"]), ("id[]", ids["dave"])]
    body = client.get("/api/v1/accounts/familiar_followers", query_string=query, headers=alice).json
    assert body[0]["id"] == str(ids["bob"]) and [a["username"] for a in body[0]["accounts"]] == ["carol"]
    assert body[1] == {"id": str(ids["dave"]), "accounts": []}


# -- search ----------------------------------------------------------------------------------------------
def test_search_by_name_prefix(app, client, ids, alice):
    with app.app_context():
        make_user("bobby")
    body = client.get("/api/v1/accounts/search?q=bob", headers=alice).json
    assert [entry["username"] for entry in body][:2] == ["bob", "bobby"]
    assert [e["username"] for e in client.get("/api/v1/accounts/search?q=@bob@microblog.test&limit=1",
                                              headers=alice).json] == ["bob"]
    offset = client.get("/api/v1/accounts/search?q=bob&offset=1&limit=1", headers=alice).json
    assert [entry["username"] for entry in offset] == ["bobby"]
    assert client.get("/api/v1/accounts/search?q=bob@elsewhere.example", headers=alice).json == []


def test_search_following_only_and_without_deactivated(app, client, ids, alice):
    with app.app_context():
        make_user("bobby")
        make_user("bobcat")
    follow(app, "alice", "bobby")
    deactivate(app, "bobcat")
    body = client.get("/api/v1/accounts/search?q=bob&following=true&resolve=true", headers=alice).json
    assert [entry["username"] for entry in body] == ["bobby"]
    everyone = client.get("/api/v1/accounts/search?q=bob", headers=alice).json
    assert "bobcat" not in {entry["username"] for entry in everyone}


@pytest.mark.parametrize("query", ["", "q=", "q=%20", "q=bob&limit=abc&offset=-3", "q=%00%01",
                                   "q=" + "x" * 3000, "q=a@b@c", "q=@"])
def test_search_with_odd_queries_is_never_a_server_error(client, ids, alice, query):
    response = client.get(f"/api/v1/accounts/search?{query}", headers=alice)
    assert response.status_code in (200, 400)


def test_search_needs_a_token(app, client, ids):
    assert client.get("/api/v1/accounts/search?q=bob").status_code == 401
    wrong = token(app, "alice", "write")
    assert client.get("/api/v1/accounts/search?q=bob", headers=wrong).status_code == 403


# -- update_credentials -----------------------------------------------------------------------------------
def test_update_credentials_round_trip(app, client, ids, alice):
    response = client.patch("/api/v1/accounts/update_credentials", headers=alice, data={
        "note": "Hello\nworld", "source[privacy]": "private", "source[language]": "ja",
        "display_name": "alice", "locked": "false", "bot": "0", "discoverable": "true"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["note"] == "<p>Hello<br />world</p>" and body["source"]["note"] == "Hello\nworld"
    assert body["source"]["privacy"] == "private" and body["source"]["language"] == "ja"
    with app.app_context():
        user = find_user("alice")
        assert user.about_me == "Hello\nworld" and user.locale == "ja"
        assert user.default_visibility == Visibility.FOLLOWERS.value
    again = client.get("/api/v1/accounts/verify_credentials", headers=alice).json
    assert again["source"] == body["source"]
    assert "Hello" in client.get("/user/alice").get_data(as_text=True)


def test_update_credentials_as_json_and_languages_by_their_iso_code(app, client, ids, alice):
    response = client.patch("/api/v1/accounts/update_credentials", headers=alice,
                            json={"note": "json note", "source": {"privacy": "unlisted", "language": "pt"}})
    assert response.status_code == 200, response.json
    with app.app_context():
        user = find_user("alice")
        assert user.about_me == "json note" and user.locale == "pt_BR"
        assert user.default_visibility == Visibility.UNLISTED.value
    cleared = client.patch("/api/v1/accounts/update_credentials", headers=alice, json={"note": ""})
    assert cleared.json["note"] == "" and cleared.json["source"]["privacy"] == "unlisted"


def test_update_credentials_leaves_what_is_not_sent(app, client, ids, alice):
    client.patch("/api/v1/accounts/update_credentials", headers=alice, data={"note": "kept"})
    body = client.patch("/api/v1/accounts/update_credentials", headers=alice, data={}).json
    assert body["source"]["note"] == "kept"
    body = client.patch("/api/v1/accounts/update_credentials", headers=alice,
                        data={"source[privacy]": "public"}).json
    assert body["source"]["note"] == "kept" and body["source"]["privacy"] == "public"


def test_update_credentials_avatar_and_header_upload(app, client, ids, alice):
    data = {"avatar": (_png(), "me.png"), "header": (_png(), "header.png")}
    response = client.patch("/api/v1/accounts/update_credentials", headers=alice, data=data,
                            content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    with app.app_context():
        user = find_user("alice")
        assert user.avatar_key and user.header_key
    assert response.json["header"] != "http://microblog.test/static/icons/missing-header.png"
    assert client.get(response.json["avatar"].removeprefix("http://microblog.test")).status_code == 200


def test_update_credentials_refuses_a_file_that_is_no_image(client, ids, alice):
    response = client.patch("/api/v1/accounts/update_credentials", headers=alice,
                            data={"avatar": (_html(), "x.png")}, content_type="multipart/form-data")
    assert response.status_code == 422 and response.json["error"].startswith("Validation failed: ")


@pytest.mark.parametrize("data", [
    {"display_name": "Alice Liddell"}, {"bot": "true"}, {"discoverable": "false"},
    {"indexable": "true"}, {"hide_collections": "1"}, {"source[privacy]": "direct"},
    {"source[privacy]": "secret"}, {"source[language]": "xx"}, {"source[sensitive]": "true"},
    {"fields_attributes[0][name]": "Site"}, {"note": "x" * 5000}, {"note": "bad \x07 bell"},
])
def test_update_credentials_refuses_what_it_cannot_honour_with_422(app, client, ids, alice, data):
    response = client.patch("/api/v1/accounts/update_credentials", headers=alice, data=data)
    assert response.status_code == 422, response.json
    assert response.json["error"].startswith("Validation failed: ")
    with app.app_context():
        assert find_user("alice").about_me is None and find_user("alice").locale is None


@pytest.mark.parametrize("body", [{"note": 5}, {"note": ["a"]}, {"source": "public"},
                                  {"source": {"privacy": 1}}, {"source": {"language": 3}},
                                  {"source": {"privacy": ["a"]}}, {"source": {"language": {"a": 1}}},
                                  {"fields_attributes": {"0": {"name": ["x"]}}},
                                  {"attribution_domains": [{}]},
                                  {"display_name": {"a": 1}}, [1, 2], "text",
                                  {"avatar": "not a file"}, {"locked": {"x": 1}}])
def test_update_credentials_garbage_json_is_4xx(client, ids, alice, body):
    response = client.patch("/api/v1/accounts/update_credentials", headers=alice, json=body)
    assert 400 <= response.status_code < 500


def test_update_credentials_garbage_bodies_are_4xx(client, ids, alice):
    bodies = ((b"{not json", "application/json"), (b"\xff\xfe", "application/x-www-form-urlencoded"),
              (b"--x\r\nbroken", "multipart/form-data; boundary=x"), (b"\x00" * 100, "application/json"))
    for data, content_type in bodies:
        response = client.patch("/api/v1/accounts/update_credentials", headers=alice, data=data,
                                content_type=content_type)
        assert 200 <= response.status_code < 500
    malformed = client.patch("/api/v1/accounts/update_credentials", headers=alice, data=b"{not json",
                             content_type="application/json")
    assert malformed.status_code == 400


def test_update_credentials_needs_write_accounts_and_an_active_account(app, client, ids):
    url = "/api/v1/accounts/update_credentials"
    assert client.patch(url, data={"note": "x"}).status_code == 401
    wrong = token(app, "alice", "read write:statuses")
    assert client.patch(url, data={"note": "x"}, headers=wrong).status_code == 403
    headers = token(app, "alice", "write:accounts")
    with app.app_context():
        find_user("alice").suspended_at = utcnow()
        db.session.commit()
    response = client.patch(url, data={"note": "x"}, headers=headers)
    assert response.status_code == 403 and response.json == {"error": "Your login is currently disabled"}
    with app.app_context():
        assert find_user("alice").about_me is None


def _png() -> io.BytesIO:
    return io.BytesIO(png_bytes(64, 64))


def _html() -> io.BytesIO:
    return io.BytesIO(b"<!doctype html><html></html>")


def test_counts_match_the_database(app, client, ids):
    follow(app, "alice", "bob")
    with app.app_context():
        count = db.session.scalar(sa.select(User.follower_count).where(User.username == "bob"))
    assert client.get(f"/api/v1/accounts/{ids['bob']}").json["followers_count"] == count == 1


def test_pictures_may_exceed_the_form_limit_but_other_writes_may_not(make_app):
    app = make_app(MAX_CONTENT_LENGTH=4096)
    bob = people(app, "alice", "bob")["bob"]
    headers = token(app, "alice")
    client = app.test_client()
    noise = Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    assert buffer.tell() > 4096
    buffer.seek(0)
    response = client.patch("/api/v1/accounts/update_credentials", headers=headers,
                            data={"avatar": (buffer, "noise.png")}, content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    too_long = client.post(f"/api/v1/accounts/{bob}/follow", headers=headers, data={"x": "x" * 8000})
    assert too_long.status_code == 413 and too_long.json == {"error": "Request too large"}
