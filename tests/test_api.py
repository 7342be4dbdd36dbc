"""The JSON API through the real app: tokens, users, follows, posts, errors and limits."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from microblog import search
from microblog.extensions import db
from microblog.models import Message, Post, Report, Token, User, followers
from tests.factories import DEFAULT_PASSWORD, basic, make_follow, make_post, make_posts, make_user, token_for
from tests.samples import INVISIBLE_POSTS, NOTHING_VISIBLE, VISIBLE_POSTS


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


# -- tokens -------------------------------------------------------------------------------------
def test_token_lifecycle(client, app, alice):
    response = client.post("/api/tokens", headers=basic("alice"))
    assert response.status_code == 201
    token = response.json["token"]
    assert response.json["expires_at"]
    with app.app_context():
        stored = db.session.scalar(sa.select(Token))
        assert stored.token_hash != token and len(stored.token_hash) == 64  # only the hash is kept
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/timeline", headers=headers).status_code == 200
    assert client.delete("/api/tokens", headers=headers).status_code == 204
    assert client.get("/api/timeline", headers=headers).status_code == 401


@pytest.mark.parametrize("headers", [
    {},
    basic("alice", "wrong-password"),
    basic("nobody"),
    {"Authorization": "Basic !!!notbase64"},
    {"Authorization": "Bearer something"},
])
def test_token_creation_refuses_bad_credentials_the_same_way(client, alice, headers):
    response = client.post("/api/tokens", headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "Unauthorized"
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Token abc", "Bearer " + "x" * 5000])
def test_bad_bearer_tokens_are_401(client, alice, header):
    assert client.get("/api/timeline", headers={"Authorization": header}).status_code == 401


def test_expired_tokens_are_refused(client, app, alice):
    headers = token_for(client)
    with app.app_context():
        db.session.execute(sa.update(Token).values(expires_at=Token.created_at))
        db.session.commit()
    assert client.get("/api/timeline", headers=headers).status_code == 401


# -- users --------------------------------------------------------------------------------------
def test_register_through_the_api(client, app):
    response = client.post("/api/users", json={"username": "carol", "email": "Carol@Example.com",
                                               "password": "correct-horse"})
    assert response.status_code == 202
    assert set(response.json) == {"message"}  # names no account: the same for a taken address
    with app.app_context():
        assert db.session.scalar(sa.select(User.email)) == "carol@example.com"
    token = client.post("/api/tokens", headers=basic("carol", "correct-horse"))
    assert token.status_code == 201
    carol = client.get(f"/api/users/{token.json['user_id']}")
    assert carol.json["username"] == "carol"
    assert "password" not in carol.json and "email" not in carol.json


def test_register_through_the_api_with_a_taken_address_answers_the_same(client, app, alice):
    new = client.post("/api/users", json={"username": "carol", "email": "carol@example.com",
                                          "password": "correct-horse"})
    taken = client.post("/api/users", json={"username": "bob", "email": "ALICE@example.com",
                                            "password": "correct-horse"})
    assert (new.status_code, new.json) == (taken.status_code, taken.json) == (202, new.json)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


@pytest.mark.parametrize(("payload", "status", "field"), [
    ({"username": "x", "email": "x@example.com", "password": "correct-horse"}, 422, "username"),
    ({"username": "alice", "email": "x@example.com", "password": "correct-horse"}, 409, "username"),
    ({"username": "bob", "email": "bob@example.com", "password": "short"}, 422, "password"),
    ({"username": "bob", "email": "not-an-email", "password": "correct-horse"}, 422, "email"),
    ({"username": "bob"}, 422, "email"),
    ({"username": 5, "email": "b@example.com", "password": "correct-horse"}, 422, "username"),
    ({"username": "bob", "email": "b@example.com", "password": "correct-horse", "admin": True}, 422, "admin"),
])
def test_register_errors_are_json_and_store_nothing(client, app, alice, payload, status, field):
    response = client.post("/api/users", json=payload)
    assert response.status_code == status
    assert set(response.json) >= {"error", "message"}
    assert field in response.json["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


@pytest.mark.parametrize(("body", "content_type"), [
    ("{not json", "application/json"), ("[]", "application/json"), ('"text"', "application/json"),
    ("username=bob", "application/x-www-form-urlencoded"),
])
def test_malformed_bodies_are_4xx(client, body, content_type):
    response = client.post("/api/users", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert "error" in response.json


# -- malformed JSON: refused with the usual JSON error, never a 500 --------------------------------
# Every endpoint that reads a JSON body: (method, path, a valid body, its text fields, the table it writes).
JSON_ENDPOINTS = {
    "register": ("post", "/api/users", {"username": "bob", "email": "bob@example.com",
                                        "password": DEFAULT_PASSWORD},
                 ["username", "email", "password"], User),
    "update-user": ("put", "/api/users/{alice}", {"username": "alice", "about_me": "Hello"},
                    ["username", "about_me"], User),
    "post": ("post", "/api/posts", {"body": "Hello world"}, ["body"], Post),
    "message": ("post", "/api/messages", {"recipient_id": "{carol}", "body": "Hello Carol"},
                ["body"], Message),
    "report": ("post", "/api/reports", {"user_id": "{carol}", "reason": "spam"}, ["reason"], Report),
}
DEEPLY_NESTED = {"array": "[" * 5000, "object": '{"a":' * 5000, "closed": "[" * 5000 + "]" * 5000}
LONE_SURROGATES = [r"x\ud800", r"\udfff", r"a\ud83d b", r"\ude00\ud83d"]  # as written in the JSON text


@pytest.fixture
def json_endpoint(request, app, client):
    """(method, path, body, text fields, table), with a signed-in alice and a carol to write to."""
    method, path, body, fields, table = JSON_ENDPOINTS[request.param]
    with app.app_context():
        ids = {"alice": make_user("alice", about_me="original").id, "carol": make_user("carol").id}
    body = {key: int(value.format(**ids)) if value in ("{alice}", "{carol}") else value
            for key, value in body.items()}
    return method, path.format(**ids), body, fields, table, token_for(client)


def rows_and_alice(app, table) -> tuple[int, str | None]:
    with app.app_context():
        alice_now = db.session.scalar(sa.select(User).where(User.username == "alice"))
        return db.session.scalar(sa.select(sa.func.count()).select_from(table)), alice_now.about_me


@pytest.mark.parametrize("json_endpoint", sorted(JSON_ENDPOINTS), indirect=True)
@pytest.mark.parametrize("nesting", sorted(DEEPLY_NESTED))
def test_deeply_nested_json_is_400(app, client, json_endpoint, nesting):
    method, path, _body, _fields, table, token = json_endpoint
    before = rows_and_alice(app, table)
    response = getattr(client, method)(path, data=DEEPLY_NESTED[nesting], content_type="application/json",
                                       headers=token)
    assert response.status_code == 400
    assert response.json["errors"] == {"json": ["Invalid JSON body."]}
    assert set(response.json) >= {"error", "message"}
    assert rows_and_alice(app, table) == before


@pytest.mark.parametrize("json_endpoint", sorted(JSON_ENDPOINTS), indirect=True)
@pytest.mark.parametrize("text", LONE_SURROGATES)
def test_a_lone_surrogate_in_any_text_field_is_422_and_stores_nothing(app, client, json_endpoint, text):
    method, path, body, fields, table, token = json_endpoint
    before = rows_and_alice(app, table)
    for field in fields:
        # Written by hand: a JSON encoder would refuse the string, or write it as something else.
        raw = json.dumps({**body, field: "@@"}).replace("@@", text)
        response = getattr(client, method)(path, data=raw, content_type="application/json", headers=token)
        assert response.status_code == 422, (field, response.status_code)
        assert set(response.json) >= {"error", "message"}
        assert response.json["errors"]["json"] == {field: [
            "This text contains an invalid character (a lone surrogate). Please remove it."]}
        assert rows_and_alice(app, table) == before


# Sign-up is left out: a name, an address and a password, none of them text shown to people.
@pytest.mark.parametrize("json_endpoint", sorted(set(JSON_ENDPOINTS) - {"register"}), indirect=True)
def test_surrogate_pairs_are_one_character_and_accepted(app, client, json_endpoint):
    """A correct pair in JSON (as JavaScript's JSON.stringify writes emoji) is the character it encodes."""
    method, path, body, fields, _table, token = json_endpoint
    field = fields[-1]
    raw = json.dumps({**body, field: "@@"}).replace("@@", r"Hi \ud83d\ude00")
    response = getattr(client, method)(path, data=raw, content_type="application/json", headers=token)
    assert response.status_code in (200, 201), response.json


def test_every_api_blueprint_reads_json_with_the_guarded_parser(app):
    from microblog.api import BLUEPRINTS
    from microblog.api.parsing import JsonParser

    assert all(isinstance(blueprint.ARGUMENTS_PARSER, JsonParser) for blueprint in BLUEPRINTS)


def test_get_user_with_counts(client, app, alice):
    with app.app_context():
        me = db.session.get(User, alice)
        bob = make_user("bob")
        make_follow(bob, me)
        make_posts(me, 3)
    response = client.get(f"/api/users/{alice}")
    assert response.status_code == 200
    body = response.json
    assert (body["post_count"], body["follower_count"], body["following_count"]) == (3, 1, 0)
    assert body["_links"]["self"] == f"/api/users/{alice}"
    assert client.get("/api/users/999999").status_code == 404
    assert client.get("/api/users/99999999999999999999999").status_code == 404


def test_update_own_profile_only(client, app, alice):
    with app.app_context():
        bob_id = make_user("bob").id
    headers = token_for(client)
    response = client.put(f"/api/users/{alice}", json={"about_me": "Hi there"}, headers=headers)
    assert response.status_code == 200 and response.json["about_me"] == "Hi there"
    assert client.put(f"/api/users/{bob_id}", json={"about_me": "hacked"}, headers=headers).status_code == 403
    assert client.put(f"/api/users/{alice}", json={"username": "BOB"}, headers=headers).status_code == 409
    assert client.put(f"/api/users/{alice}", json={"about_me": "x"}).status_code == 401
    with app.app_context():
        assert db.session.get(User, bob_id).about_me is None


def test_lists_have_items_meta_and_links(client, app):
    with app.app_context():
        star = make_user("star")
        for i in range(5):
            make_follow(make_user(f"fan{i}"), star)
        star_id = star.id
    first = client.get(f"/api/users/{star_id}/followers?per_page=2")
    assert first.status_code == 200
    assert len(first.json["items"]) == 2
    assert first.json["_meta"] == {"page": 1, "per_page": 2, "total_items": 5}
    links = first.json["_links"]
    assert links["self"] == f"/api/users/{star_id}/followers?page=1&per_page=2"
    # Long lists link on by an opaque cursor (keyset pagination); ?page=N still works.
    assert links["next"].startswith(f"/api/users/{star_id}/followers?before=")
    assert links["next"].endswith("&per_page=2")
    assert links["prev"] is None
    second = client.get(links["next"])
    assert second.json["_meta"]["page"] == 2 and second.json["_links"]["prev"] is not None
    last = client.get(second.json["_links"]["next"])
    assert len(last.json["items"]) == 1 and last.json["_links"]["next"] is None
    assert client.get(f"/api/users/{star_id}/followers?page=3&per_page=2").json["items"] == last.json["items"]
    seen = [u["id"] for r in (first, second, last) for u in r.json["items"]]
    assert len(set(seen)) == 5
    assert client.get(f"/api/users/{star_id}/following").json["items"] == []
    for bad in ("per_page=0", "per_page=101", "page=0", "page=abc", "page=-1"):
        assert client.get(f"/api/users/{star_id}/followers?{bad}").status_code == 422
    assert client.get(f"/api/users/{star_id}/followers?page=99").status_code == 404


def test_follow_and_unfollow(client, app, alice):
    with app.app_context():
        bob_id = make_user("bob").id
    headers = token_for(client)
    assert client.post(f"/api/users/{bob_id}/follow", headers=headers).status_code == 204
    assert client.post(f"/api/users/{bob_id}/follow", headers=headers).status_code == 204  # harmless
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 1
    refused = client.post(f"/api/users/{alice}/follow", headers=headers)
    assert refused.status_code == 422 and "yourself" in refused.json["message"]
    assert client.delete(f"/api/users/{bob_id}/follow", headers=headers).status_code == 204
    assert client.post("/api/users/424242/follow", headers=headers).status_code == 404
    assert client.post(f"/api/users/{bob_id}/follow").status_code == 401


# -- posts --------------------------------------------------------------------------------------
def test_publish_read_and_delete_a_post(client, app, alice):
    headers = token_for(client)
    response = client.post("/api/posts", json={"body": "Hello API https://example.com"}, headers=headers)
    assert response.status_code == 201
    post_id = response.json["id"]
    assert response.headers["Location"] == f"/api/posts/{post_id}"
    assert response.json["author"]["username"] == "alice"
    assert client.get(f"/api/posts/{post_id}").json["body"] == "Hello API https://example.com"
    assert client.delete(f"/api/posts/{post_id}", headers=headers).status_code == 204
    assert client.get(f"/api/posts/{post_id}").status_code == 404


@pytest.mark.parametrize(("payload", "field"), [
    ({"body": ""}, "body"), ({"body": "x" * 281}, "body"), ({"body": "a\x00b"}, "body"),
    ({}, "body"), ({"body": 42}, "body"), ({"body": "hi", "extra": 1}, "extra"),
])
def test_bad_posts_are_422_and_not_stored(client, app, alice, payload, field):
    response = client.post("/api/posts", json=payload, headers=token_for(client))
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


@pytest.mark.parametrize("body", INVISIBLE_POSTS.values(), ids=INVISIBLE_POSTS.keys())
def test_a_post_that_shows_nothing_is_422(client, app, alice, body):
    response = client.post("/api/posts", json={"body": body}, headers=token_for(client))
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"body": [NOTHING_VISIBLE]}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


@pytest.mark.parametrize("body", VISIBLE_POSTS.values(), ids=VISIBLE_POSTS.keys())
def test_a_post_with_zero_width_characters_and_visible_text_is_201(client, app, alice, body):
    response = client.post("/api/posts", json={"body": body}, headers=token_for(client))
    assert response.status_code == 201, response.json
    assert response.json["body"] == body


def test_cannot_delete_someone_elses_post(client, app, alice):
    with app.app_context():
        post_id = make_post(make_user("bob")).id
    response = client.delete(f"/api/posts/{post_id}", headers=token_for(client))
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Post, post_id) is not None


def test_timeline_explore_and_user_posts(client, app, alice):
    with app.app_context():
        me = db.session.get(User, alice)
        bob, carol = make_user("bob"), make_user("carol")
        make_follow(me, bob)
        make_post(bob, "from bob")
        make_post(carol, "from carol")
        make_post(me, "from alice")
        bob_id = bob.id
    timeline = client.get("/api/timeline", headers=token_for(client)).json
    assert [p["body"] for p in timeline["items"]] == ["from alice", "from bob"]
    explore = client.get("/api/posts").json
    assert len(explore["items"]) == 3 and explore["_meta"] == {"page": 1, "per_page": 25}
    assert [p["body"] for p in client.get(f"/api/users/{bob_id}/posts").json["items"]] == ["from bob"]


def test_api_errors_are_json_even_for_html_clients(client):
    response = client.get("/api/nothing-here", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.is_json
    response = client.delete("/api/posts")
    assert response.status_code == 405 and response.is_json and "Allow" in response.headers


def test_big_bodies_are_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/api/users", json={"username": "x" * 5000})
    assert response.status_code == 413 and response.is_json


# -- documentation and limits -----------------------------------------------------------------------
def test_openapi_document_and_local_docs_page(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = {"/api/tokens", "/api/users", "/api/users/{user_id}", "/api/posts", "/api/timeline"}
    assert paths <= set(spec["paths"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    page = client.get("/api/docs").get_data(as_text=True)
    bundle = re.search(r'"(/static/vendor/swagger-ui/swagger-ui-bundle\.[0-9a-f]{8}\.js)"', page)
    assert bundle and "https://" not in page
    assert client.get(bundle.group(1)).status_code == 200


def test_the_openapi_document_written_on_first_read_describes_every_api_route(make_app):
    """The document is written when first read (MicroblogApi): still every route and tag, also when
    another app was built in between."""
    import re

    from microblog.api import BLUEPRINTS

    first = make_app()
    make_app()
    spec = first.test_client().get("/api/openapi.json").json
    documented = {(path, method.upper())
                  for path, operations in spec["paths"].items() for method in operations}
    routes = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method)
              for rule in first.url_map.iter_rules() if rule.endpoint.split(".")[0].startswith("api_")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes and routes <= documented
    assert {bp.name for bp in BLUEPRINTS} <= {tag["name"] for tag in spec["tags"]}


@pytest.fixture
def limited_app(make_app):
    """An app with rate limits on, and counters that start from zero."""

    def _make(**limits):
        from microblog.extensions import limiter

        app = make_app(RATELIMIT_ENABLED=True, **limits)
        with app.app_context():
            limiter.reset()  # the memory storage outlives earlier tests' apps in this process
        return app

    return _make


def test_token_creation_is_rate_limited(limited_app):
    app = limited_app(RATELIMIT_LOGIN="3 per minute")
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    statuses = [client.post("/api/tokens", headers=basic("alice", "wrong")).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = client.post("/api/tokens", headers=basic("alice"))
    assert limited.status_code == 429 and limited.is_json
    assert "X-RateLimit-Limit" in limited.headers or "Retry-After" in limited.headers


def test_api_calls_are_counted_per_token(limited_app):
    app = limited_app(RATELIMIT_API="5 per minute")
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    headers = token_for(client)
    statuses = [client.get("/api/timeline", headers=headers).status_code for _ in range(6)]
    assert statuses[:4] == [200] * 4 and statuses[-1] == 429
    assert client.get("/api/posts").status_code == 200  # an anonymous caller has its own allowance


# -- search -------------------------------------------------------------------------------------------
def test_search_posts_and_people(client, app):
    with app.app_context():
        bob = make_user("bob", about_me="Loves chess and coffee")
        carol = make_user("carol")
        posts = [make_post(bob, "Chess openings are fun"), make_post(carol, "Coffee all morning")]
        # The factories write rows directly; the services would queue this indexing.
        search.index_users(bob.id, carol.id)
        search.index_posts(*(post.id for post in posts))
    posts = client.get("/api/search?q=chess")
    assert posts.status_code == 200
    assert [p["body"] for p in posts.json["items"]] == ["Chess openings are fun"]
    assert posts.json["_links"]["self"].startswith("/api/search?")
    people = client.get("/api/search/people?q=coffee")
    assert [u["username"] for u in people.json["items"]] == ["bob"]
    by_author = client.get("/api/search", query_string={"q": "@carol coffee"})
    assert [p["body"] for p in by_author.json["items"]] == ["Coffee all morning"]


@pytest.mark.parametrize("query", ["", "   ", "-alone", '"', "*"])
def test_search_without_anything_to_look_for_is_422(client, query):
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code == 422 and "q" in response.json["errors"]["query"]


def test_search_needs_q(client):
    assert client.get("/api/search").status_code == 422
