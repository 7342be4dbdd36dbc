"""CSRF protection: every state-changing route refuses a request without a valid token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed

from microblog.extensions import db
from microblog.models import Post, User, followers
from tests.factories import DEFAULT_PASSWORD, make_follow, make_post, make_user

CSRF_MESSAGE = "Your form expired or was sent from elsewhere."

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Values for URL arguments when every route is called; a route with a new argument name needs one here.
SAMPLE_ARGS = {"username": "bob", "post_id": "1", "user_id": "1", "token": "any-token", "fmt": "csv",
               "report_id": "1", "action": "hide", "kind": "users", "media_id": "1", "session_id": "1",
               "token_id": "1", "passkey_id": "1", "app_id": "1", "domain": "example.com", "request_id": "1",
               "status_id": "1", "raw_id": "1", "account_id": "1", "name": "tag", "hashtag": "tag"}


def csrf_exempt_reason(rule) -> str | None:
    """Why a route may change state without a CSRF token, or None when it must demand one."""
    if rule.rule.startswith("/api/"):
        return "the JSON API authenticates with the Authorization header, never the session cookie"
    if rule.rule.rstrip("/") in ("/oauth/token", "/oauth/revoke"):
        return "OAuth 2: Mastodon apps authenticate with their client secret (RFC 6749), never the cookie"
    if rule.endpoint in ("federation.inbox", "federation.shared_inbox"):
        return "ActivityPub inboxes: servers authenticate each POST with an HTTP Signature, never a cookie"
    if rule.endpoint == "auth.unsubscribe":
        return "RFC 8058 one-click unsubscribe: mail clients POST with no session; the signed URL is the key"
    return None


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice", about_me="original")
        make_user("bob")
    return app


class _CsrfInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name") == "csrf_token" and attributes.get("value"):
            self.values.append(attributes["value"])


def csrf_token(client: FlaskClient, page: str) -> str:
    """The token in the hidden ``csrf_token`` input of ``page``'s form, as a browser would send it."""
    response = client.get(page)
    assert response.status_code == 200, page
    parser = _CsrfInputs()
    parser.feed(response.get_data(as_text=True))
    assert parser.values, f"no csrf_token input on {page}"
    assert len(set(parser.values)) == 1  # one token per session, whatever the form
    return parser.values[0]


def sign_in(client: FlaskClient, username: str = "alice") -> None:
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert signed_in(client)


def signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _follows(follower: str, followed: str) -> bool:
    query = (
        sa.select(sa.func.count()).select_from(followers)
        .where(followers.c.follower_id == _user(follower).id, followers.c.followed_id == _user(followed).id)
    )
    return db.session.scalar(query) == 1


@dataclass(frozen=True)
class Action:
    """A state-changing request, the page whose form carries its token, and what it changes."""

    name: str
    endpoint: str
    path: str                                     # may use {post_id}
    form_page: str
    data: dict[str, Any]
    state: Callable[[FlaskClient], Any]           # read inside an app context
    expected: Any                                 # the state once the action has succeeded
    needs_sign_in: bool = True
    setup: Callable[[], dict[str, Any]] = field(default=lambda: {})


def _alice_post() -> dict[str, Any]:
    return {"post_id": make_post(_user("alice"), "mine").id}


def _alice_follows_bob() -> dict[str, Any]:
    make_follow(_user("alice"), _user("bob"))
    return {}


ACTIONS = [
    Action("register", "auth.register", "/auth/register", "/auth/register",
           {"username": "carol", "email": "carol@example.com",
            "password": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD},
           state=lambda client: _user("carol") is not None, expected=True, needs_sign_in=False),
    Action("login", "auth.login", "/auth/login", "/auth/login",
           {"username": "alice", "password": DEFAULT_PASSWORD},
           state=lambda client: signed_in(client), expected=True, needs_sign_in=False),
    Action("logout", "auth.logout", "/auth/logout", "/", {},
           state=lambda client: signed_in(client), expected=False),
    Action("post", "main.index", "/index", "/", {"post": "hello"},
           state=lambda client: db.session.scalar(sa.select(sa.func.count()).select_from(Post)), expected=1),
    Action("edit_profile", "main.edit_profile", "/edit_profile", "/edit_profile",
           {"username": "alice", "about_me": "changed"},
           state=lambda client: _user("alice").about_me, expected="changed"),
    Action("follow", "people.follow", "/follow/bob", "/user/bob", {},
           state=lambda client: _follows("alice", "bob"), expected=True),
    Action("unfollow", "people.unfollow", "/unfollow/bob", "/user/bob", {},
           state=lambda client: _follows("alice", "bob"), expected=False, setup=_alice_follows_bob),
    Action("delete_post", "main.delete_post", "/post/{post_id}/delete", "/user/alice", {},
           state=lambda client: db.session.scalar(sa.select(sa.func.count()).select_from(Post)), expected=0,
           setup=_alice_post),
]


def prepare(app: Flask, client: FlaskClient, action: Action) -> tuple[str, Any]:
    """Set the scene; return the action's path and the state before it."""
    with app.app_context():
        path = action.path.format(**action.setup())
    if action.needs_sign_in:
        sign_in(client)
    with app.app_context():
        return path, action.state(client)


def bad_token(kind: str, app: Flask, client: FlaskClient, action: Action) -> dict[str, str]:
    """The csrf_token field for a forged or stale request; the client's own session does hold a token."""
    own = csrf_token(client, action.form_page)
    if kind == "missing":
        return {}
    if kind == "empty":
        return {"csrf_token": ""}
    if kind == "garbage":
        return {"csrf_token": "not-a-token"}
    if kind == "tampered":
        return {"csrf_token": ("B" if own[0] == "A" else "A") + own[1:]}
    if kind == "another_session":
        return {"csrf_token": csrf_token(app.test_client(), "/auth/login")}
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "tampered", "another_session"])
@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_refused_without_a_valid_token(app, client, action, kind):
    path, before = prepare(app, client, action)
    was_signed_in = signed_in(client)
    response = client.post(path, data={**action.data, **bad_token(kind, app, client, action)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert CSRF_MESSAGE in html
    assert "Microblog" in html  # the site's error page
    with app.app_context():
        assert action.state(client) == before
    assert signed_in(client) == was_signed_in


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_accepted_with_the_token_from_its_form(app, client, action):
    path, before = prepare(app, client, action)
    assert before != action.expected
    token = csrf_token(client, action.form_page)
    response = client.post(path, data={**action.data, "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert action.state(client) == action.expected


def test_a_token_from_before_sign_in_is_refused_after_it(app, client):
    """Signing in replaces the token: one planted in the browser beforehand is worth nothing after."""
    planted = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD,
                                                "csrf_token": planted})
    assert response.status_code == 302
    assert signed_in(client)
    response = client.post("/follow/bob", data={"csrf_token": planted})
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    with app.app_context():
        assert not _follows("alice", "bob")
    # The pages signed-in people see carry the new token, which works.
    fresh = csrf_token(client, "/user/bob")
    assert fresh != planted
    assert client.post("/follow/bob", data={"csrf_token": fresh}).status_code == 302
    with app.app_context():
        assert _follows("alice", "bob")


def test_a_token_from_before_sign_up_is_refused_after_it(app, client):
    """Signing up signs in, and so replaces the token too."""
    planted = csrf_token(client, "/auth/register")
    response = client.post("/auth/register", data={
        "username": "carol", "email": "carol@example.com", "password": DEFAULT_PASSWORD,
        "password2": DEFAULT_PASSWORD, "csrf_token": planted})
    assert response.status_code == 302
    assert signed_in(client)
    response = client.post("/follow/bob", data={"csrf_token": planted})
    assert response.status_code == 400
    with app.app_context():
        assert not _follows("carol", "bob")
    fresh = csrf_token(client, "/user/bob")
    assert fresh != planted
    assert client.post("/follow/bob", data={"csrf_token": fresh}).status_code == 302
    with app.app_context():
        assert _follows("carol", "bob")


def test_a_token_from_before_sign_out_is_refused_after_it(app, client):
    """Signing out replaces the token too: the next person at this browser cannot use the last one's."""
    sign_in(client)
    before = csrf_token(client, "/user/bob")
    assert client.post("/auth/logout", data={"csrf_token": before}).status_code == 302
    assert not signed_in(client)
    response = client.post("/auth/login", data={"username": "bob", "password": DEFAULT_PASSWORD,
                                                "csrf_token": before})
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert not signed_in(client)
    fresh = csrf_token(client, "/auth/login")
    assert fresh != before
    response = client.post("/auth/login", data={"username": "bob", "password": DEFAULT_PASSWORD,
                                                "csrf_token": fresh})
    assert response.status_code == 302
    assert signed_in(client)


def unsafe_requests(app: Flask):
    """(rule, method, path) for every route and method that may change state."""
    for rule in app.url_map.iter_rules():
        if not rule.methods & UNSAFE_METHODS:
            continue
        missing = set(rule.arguments) - set(SAMPLE_ARGS)
        assert not missing, f"add sample values for {missing} ({rule.endpoint})"
        path = rule.build({name: SAMPLE_ARGS[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods & UNSAFE_METHODS):
            yield rule, method, path


def test_every_state_changing_route_demands_a_token(app, client):
    """Each POST/PUT/PATCH/DELETE route, including ones added later, refuses a tokenless request."""
    sign_in(client)
    checked = 0
    for rule, method, path in unsafe_requests(app):
        response = client.open(path, method=method)
        if csrf_exempt_reason(rule) is None:
            assert response.status_code == 400, f"{method} {path} ({rule.endpoint}) ran without a CSRF token"
            assert CSRF_MESSAGE in response.get_data(as_text=True)
            checked += 1
        else:
            # Exempt routes must not act on the session cookie: they answer it as they answer no cookie.
            assert response.status_code >= 400, f"{method} {path} succeeded on the session cookie alone"
            assert app.test_client().open(path, method=method).status_code == response.status_code
    assert checked >= len(ACTIONS)
    assert signed_in(client)  # not even logout got through


def test_no_get_reaches_a_state_changing_view(app, client):
    """A link or an <img> must never change state: GET on a POST-only route is 405 (or another view)."""
    adapter = app.url_map.bind("localhost")
    sign_in(client)
    for rule, method, path in unsafe_requests(app):
        if "GET" in rule.methods:
            continue
        try:
            endpoint, _args = adapter.match(path, method="GET")
        except MethodNotAllowed:
            response = client.get(path)
            assert response.status_code == 405, f"GET {path} ({rule.endpoint})"
            assert method in response.headers["Allow"]
        else:
            assert endpoint != rule.endpoint  # e.g. GET /api/users lists users; POST creates one
    assert signed_in(client)


@pytest.mark.parametrize("path", ["/auth/logout", "/follow/bob", "/unfollow/bob", "/post/{post_id}/delete",
                                  "/auth/resend_confirmation"])
def test_no_state_changing_get(app, client, path):
    with app.app_context():
        post_id = _alice_post()["post_id"]
        _alice_follows_bob()
    sign_in(client)
    response = client.get(path.format(post_id=post_id))
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "GET" not in response.headers["Allow"]
    assert signed_in(client)
    with app.app_context():
        assert _follows("alice", "bob")
        assert db.session.get(Post, post_id) is not None
