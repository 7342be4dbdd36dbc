"""The Mastodon accounts API's actions and the token's own lists: follow, unfollow, block, unblock,
mute, unmute (their effects seen on the web side too), blocks and mutes with Link paging, follow
requests, preferences, suggestions, and the empty start-up lists."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db, limiter
from microblog.models import Block, Mute, User
from microblog.timeutil import utcnow
from tests.factories import find_user, make_block, make_follow, make_post, signed_in_client
from tests.mastodon_account_helpers import people, token

ACTIONS = ["follow", "unfollow", "block", "unblock", "mute", "unmute"]
SCOPES = {"follow": "write:follows", "unfollow": "write:follows", "block": "write:blocks",
          "unblock": "write:blocks", "mute": "write:mutes", "unmute": "write:mutes"}


@pytest.fixture
def ids(app):
    return people(app, "alice", "bob", "carol")


@pytest.fixture
def alice(app, ids):
    return token(app, "alice")


def counts(app, name: str) -> tuple[int, int]:
    with app.app_context():
        user = find_user(name)
        return user.follower_count, user.following_count


# -- follow and unfollow ---------------------------------------------------------------------------
def test_follow_and_unfollow_answer_the_relationship_and_show_on_the_web(app, client, ids, alice):
    response = client.post(f"/api/v1/accounts/{ids['bob']}/follow", headers=alice)
    assert response.status_code == 200
    assert response.json["id"] == str(ids["bob"]) and response.json["following"] is True
    assert counts(app, "bob") == (1, 0) and counts(app, "alice") == (0, 1)
    assert client.get(f"/api/users/{ids['bob']}").json["follower_count"] == 1
    again = client.post(f"/api/v1/accounts/{ids['bob']}/follow", headers=alice, data={"reblogs": "true"})
    assert again.status_code == 200 and counts(app, "bob") == (1, 0)
    followers = client.get(f"/api/v1/accounts/{ids['bob']}/followers").json
    assert [entry["username"] for entry in followers] == ["alice"]
    response = client.post(f"/api/v1/accounts/{ids['bob']}/unfollow", headers=alice)
    assert response.status_code == 200 and response.json["following"] is False
    assert counts(app, "bob") == (0, 0)
    assert client.post(f"/api/v1/accounts/{ids['bob']}/unfollow", headers=alice).status_code == 200


def test_following_yourself_is_404_as_in_mastodon(app, client, ids, alice):
    response = client.post(f"/api/v1/accounts/{ids['alice']}/follow", headers=alice)
    assert response.status_code == 404 and response.json == {"error": "Record not found"}
    assert counts(app, "alice") == (0, 0)


@pytest.mark.parametrize("blocker", ["alice", "bob"])
def test_following_across_a_block_is_403(app, client, ids, alice, blocker):
    with app.app_context():
        other = "bob" if blocker == "alice" else "alice"
        make_block(find_user(blocker), find_user(other))
    response = client.post(f"/api/v1/accounts/{ids['bob']}/follow", headers=alice)
    assert response.status_code == 403 and response.json == {"error": "This action is not allowed"}
    assert counts(app, "bob") == (0, 0)


@pytest.mark.parametrize("data", [{"reblogs": "false"}, {"notify": "true"}, {"languages[]": "en"}])
def test_follow_options_the_site_cannot_honour_are_422(app, client, ids, alice, data):
    response = client.post(f"/api/v1/accounts/{ids['bob']}/follow", headers=alice, data=data)
    assert response.status_code == 422 and counts(app, "bob") == (0, 0)


def test_follows_are_held_to_the_webs_allowance(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FOLLOWS="2 per minute")
    with app.app_context():
        limiter.reset()
    made = people(app, "alice", "bob", "carol", "dave")
    headers, client = token(app, "alice"), app.test_client()
    for name in ("bob", "carol"):
        assert client.post(f"/api/v1/accounts/{made[name]}/follow", headers=headers).status_code == 200
    refused = client.post(f"/api/v1/accounts/{made['dave']}/follow", headers=headers)
    assert refused.status_code == 429 and refused.json == {"error": "Too many requests"}
    assert counts(app, "dave") == (0, 0)
    assert client.post(f"/api/v1/accounts/{made['bob']}/unfollow", headers=headers).status_code == 200


def test_follow_options_as_json(client, ids, alice):
    response = client.post(f"/api/v1/accounts/{ids['bob']}/follow", headers=alice,
                           json={"reblogs": True, "notify": False})
    assert response.status_code == 200 and response.json["following"] is True


# -- block and mute ---------------------------------------------------------------------------------
def test_block_ends_follows_both_ways_and_unblock_lifts_it(app, client, ids, alice):
    with app.app_context():
        make_follow(find_user("alice"), find_user("bob"))
        make_follow(find_user("bob"), find_user("alice"))
    response = client.post(f"/api/v1/accounts/{ids['bob']}/block", headers=alice)
    assert response.status_code == 200
    body = response.json
    assert body["blocking"] is True and body["following"] is False and body["followed_by"] is False
    assert counts(app, "alice") == (0, 0) and counts(app, "bob") == (0, 0)
    bob = token(app, "bob")
    seen_by_bob = client.get(f"/api/v1/accounts/relationships?id[]={ids['alice']}", headers=bob).json[0]
    assert seen_by_bob["blocked_by"] is True and seen_by_bob["blocking"] is False
    assert client.post(f"/api/v1/accounts/{ids['alice']}/follow", headers=bob).status_code == 403
    response = client.post(f"/api/v1/accounts/{ids['bob']}/unblock", headers=alice)
    assert response.status_code == 200 and response.json["blocking"] is False
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0


def test_mute_and_unmute_show_on_the_web_settings_page(app, client, ids, alice):
    response = client.post(f"/api/v1/accounts/{ids['bob']}/mute", headers=alice,
                           data={"notifications": "true"})
    assert response.status_code == 200
    assert response.json["muting"] is True and response.json["muting_notifications"] is True
    client.post(f"/api/v1/accounts/{ids['carol']}/block", headers=alice)
    page = signed_in_client(app, "alice").get("/settings/muted").get_data(as_text=True)
    assert "/user/bob" in page and "/user/carol" in page
    assert client.post(f"/api/v1/accounts/{ids['bob']}/mute", headers=alice,
                       json={"duration": 0}).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Mute)) == 1
    response = client.post(f"/api/v1/accounts/{ids['bob']}/unmute", headers=alice)
    assert response.status_code == 200 and response.json["muting"] is False


@pytest.mark.parametrize("data", [{"duration": "3600"}, {"duration": "abc"}, {"notifications": "false"},
                                  {"duration": -5}])
def test_mute_options_the_site_cannot_honour_are_422(app, client, ids, alice, data):
    response = client.post(f"/api/v1/accounts/{ids['bob']}/mute", headers=alice, json=data)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Mute)) == 0


@pytest.mark.parametrize("action", ["block", "mute"])
def test_blocking_or_muting_yourself_does_nothing_as_in_mastodon(app, client, ids, alice, action):
    response = client.post(f"/api/v1/accounts/{ids['alice']}/{action}", headers=alice)
    assert response.status_code == 200 and response.json["id"] == str(ids["alice"])
    assert not response.json["blocking"] and not response.json["muting"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Mute)) == 0


# -- every action: tokens, scopes, ids, bodies ------------------------------------------------------------
@pytest.mark.parametrize("action", ACTIONS)
def test_actions_need_a_token_with_their_scope(app, client, ids, action):
    url = f"/api/v1/accounts/{ids['bob']}/{action}"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=token(app, "alice", "read write:statuses")).status_code == 403
    assert client.post(url, headers=token(app, "alice", SCOPES[action])).status_code == 200
    assert client.post(url, headers=token(app, "alice", "write")).status_code == 200


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("bad", ["abc", "0", "99999999999", "-3"])
def test_actions_on_bad_ids_are_404(client, ids, alice, action, bad):
    response = client.post(f"/api/v1/accounts/{bad}/{action}", headers=alice)
    assert response.status_code == 404 and response.json == {"error": "Record not found"}


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_on_a_deactivated_account_are_404(app, client, ids, alice, action):
    with app.app_context():
        find_user("bob").deactivated_at = utcnow()
        db.session.commit()
    assert client.post(f"/api/v1/accounts/{ids['bob']}/{action}", headers=alice).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_a_suspended_user_cannot_act(app, client, ids, alice, action):
    with app.app_context():
        find_user("alice").suspended_at = utcnow()
        db.session.commit()
    response = client.post(f"/api/v1/accounts/{ids['bob']}/{action}", headers=alice)
    assert response.status_code == 403 and response.json == {"error": "Your login is currently disabled"}
    assert counts(app, "bob") == (0, 0)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("body,content_type", [
    (b"{broken", "application/json"), (b"[1,2]", "application/json"), (b'"x"', "application/json"),
    (b"\xff\xfe\x00", "application/x-www-form-urlencoded"), (b"--b\r\n", "multipart/form-data; boundary=b"),
    (b'{"reblogs": {"a": [1]}, "duration": [1], "notifications": null}', "application/json"),
])
def test_garbage_bodies_are_never_a_server_error(client, ids, alice, action, body, content_type):
    response = client.post(f"/api/v1/accounts/{ids['bob']}/{action}", headers=alice, data=body,
                           content_type=content_type)
    assert response.status_code < 500


def test_an_app_token_without_a_user_is_422(app, client, ids):
    registered = client.post("/api/v1/apps", data={"client_name": "x", "scopes": "read write follow",
                                                   "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}).json
    grant = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "write",
                                              "client_id": registered["client_id"],
                                              "client_secret": registered["client_secret"]}).json
    response = client.post(f"/api/v1/accounts/{ids['bob']}/follow",
                           headers={"Authorization": f"Bearer {grant['access_token']}"})
    assert response.status_code == 422
    assert response.json == {"error": "This method requires an authenticated user"}


# -- blocks and mutes lists ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,action,scope", [("blocks", "block", "read:blocks"),
                                               ("mutes", "mute", "read:mutes")])
def test_blocks_and_mutes_lists_newest_first_with_paging(app, client, ids, alice, kind, action, scope):
    names = [f"user{n}" for n in range(4)]
    made = people(app, *names)
    for name in names:
        assert client.post(f"/api/v1/accounts/{made[name]}/{action}", headers=alice).status_code == 200
    headers = token(app, "alice", scope)
    first = client.get(f"/api/v1/{kind}?limit=3", headers=headers)
    assert first.status_code == 200
    listed = [entry["username"] for entry in first.json]
    assert listed == ["user3", "user2", "user1"]
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["Link"]).group(1)
    rest = client.get(next_url.removeprefix("http://microblog.test"), headers=headers).json
    assert [entry["username"] for entry in rest] == ["user0"]
    assert client.get(f"/api/v1/{kind}").status_code == 401
    assert client.get(f"/api/v1/{kind}", headers=token(app, "alice", "read:statuses")).status_code == 403
    assert client.get(f"/api/v1/{kind}", headers=token(app, "bob", "read")).json == []


def test_follow_scope_grants_the_relationship_scopes(app, client, ids):
    headers = token(app, "alice", "follow")
    for path in ("/api/v1/blocks", "/api/v1/mutes", "/api/v1/follow_requests", "/api/v1/domain_blocks"):
        assert client.get(path, headers=headers).status_code == 200, path
    assert client.post(f"/api/v1/accounts/{ids['bob']}/follow", headers=headers).status_code == 200


# -- preferences, suggestions, the empty lists ---------------------------------------------------------------
def test_preferences(app, client, ids, alice):
    client.patch("/api/v1/accounts/update_credentials", headers=alice,
                 data={"source[privacy]": "unlisted", "source[language]": "fr"})
    body = client.get("/api/v1/preferences", headers=alice).json
    assert body == {"posting:default:visibility": "unlisted", "posting:default:sensitive": False,
                    "posting:default:language": "fr", "posting:default:quote_policy": "nobody",
                    "reading:expand:media": "default", "reading:expand:spoilers": False}
    assert client.get("/api/v1/preferences").status_code == 401
    assert client.get("/api/v1/preferences", headers=token(app, "alice", "write")).status_code == 403


def test_suggestions_friends_of_friends_then_active_accounts(app, client, ids, alice):
    with app.app_context():
        alice_, bob, carol = (find_user(name) for name in ("alice", "bob", "carol"))
        make_follow(alice_, bob)
        make_follow(bob, carol)
        dave = people(app, "dave")["dave"]
        make_post(db.session.get(User, dave), "lately")
    body = client.get("/api/v2/suggestions", headers=alice).json
    assert [entry["account"]["username"] for entry in body] == ["carol", "dave"]
    assert body[0]["sources"] == ["friends_of_friends"] and body[0]["source"] == "past_interactions"
    assert body[1]["sources"] == ["most_interactions"] and body[1]["source"] == "global"
    v1 = client.get("/api/v1/suggestions?limit=1", headers=alice).json
    assert [entry["username"] for entry in v1] == ["carol"]
    response = client.delete(f"/api/v1/suggestions/{ids['carol']}", headers=alice)
    assert response.status_code == 200 and response.json == {}
    assert client.delete("/api/v1/suggestions/abc", headers=alice).status_code == 404
    assert client.get("/api/v2/suggestions").status_code == 401
    assert client.get("/api/v2/suggestions", headers=token(app, "alice", "write")).status_code == 403


@pytest.mark.parametrize("path,scope", [
    ("/api/v1/follow_requests", "read:follows"), ("/api/v1/lists", "read:lists"),
    ("/api/v1/followed_tags", "read:follows"), ("/api/v2/filters", "read:filters"),
    ("/api/v1/domain_blocks", "read:blocks"), ("/api/v1/endorsements", "read:accounts"),
    ("/api/v1/filters", "read:filters"), ("/api/v1/featured_tags", "read:accounts")])
def test_start_up_lists_are_empty_not_missing(app, client, ids, path, scope):
    assert client.get(path, headers=token(app, "alice", scope)).json == []
    assert client.get(path + "/", headers=token(app, "alice", "read")).json == []
    assert client.get(path).status_code == 401
    assert client.get(path, headers=token(app, "alice", "write")).status_code == 403


@pytest.mark.parametrize("suffix,scope", [("featured_tags", "read:accounts"), ("lists", "read:lists")])
def test_an_accounts_featured_tags_and_lists_are_empty(app, client, ids, suffix, scope):
    headers = token(app, "alice", scope)
    assert client.get(f"/api/v1/accounts/{ids['bob']}/{suffix}", headers=headers).json == []
    assert client.get(f"/api/v1/accounts/abc/{suffix}", headers=headers).status_code == 404
    wrong = token(app, "alice", "write")
    assert client.get(f"/api/v1/accounts/{ids['bob']}/{suffix}", headers=wrong).status_code == 403


# -- every endpoint against junk ---------------------------------------------------------------------
ENDPOINTS = [
    ("GET", "/api/v1/accounts/{id}"), ("GET", "/api/v1/accounts"), ("GET", "/api/v1/accounts/lookup"),
    ("GET", "/api/v1/accounts/{id}/followers"), ("GET", "/api/v1/accounts/{id}/following"),
    ("GET", "/api/v1/accounts/relationships"), ("GET", "/api/v1/accounts/familiar_followers"),
    ("GET", "/api/v1/accounts/search"), ("PATCH", "/api/v1/accounts/update_credentials"),
    *(("POST", f"/api/v1/accounts/{{id}}/{action}") for action in ACTIONS),
    ("GET", "/api/v1/blocks"), ("GET", "/api/v1/mutes"), ("GET", "/api/v2/suggestions"),
    ("GET", "/api/v1/suggestions"), ("DELETE", "/api/v1/suggestions/{id}"), ("GET", "/api/v1/preferences"),
]
JUNK_QUERIES = ["id[]=%00&id=abc&id[]=-1&id[]=99999999999999999999", "acct=%FF%FE&q=%00&limit=-1&offset=x",
                "max_id=abc&since_id=0&min_id=99999999999999999999&limit=99999999999999999999",
                "q[]=a&acct[]=b&following=maybe&resolve[x]=1"]


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_junk_is_never_a_server_error(app, client, ids, alice, method, path):
    url = path.format(id=ids["bob"])
    for query in JUNK_QUERIES:
        for body in ({"json": {"id": {"a": [1]}, "q": ["x"], "source": [1], "note": None}},
                     {"data": {"id[]": "x", "source[privacy]": ["a", "b"], "display_name": "\x00"}}):
            response = client.open(f"{url}?{query}", method=method, headers=alice, **body)
            assert response.status_code < 500, (method, url, query, body, response.json)
