"""Races, for real: many threads hit a running server at the same instant (SQLite and PostgreSQL).

The app is served by werkzeug's threaded server inside the test process; each thread has its own
connection and waits at a barrier, so the requests really overlap in the app and the database.
Whatever the interleaving: no response >= 500, one account per name (whatever its case) and per
address, at most one follow row per pair, and the follower/following counters equal the rows.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from microblog.extensions import db
from microblog.models import Block, User, followers
from tests.factories import DEFAULT_PASSWORD, make_user

THREADS = 8
PASSWORD = "a long enough passphrase"


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    body: str


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._thread.join(10)

    def request(self, method: str, path: str, form: dict | None = None, json_body: dict | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        """One request on a connection of its own (as separate browsers would)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body)
            sent["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return Reply(response.status, urlsplit(response.getheader("Location") or "").path, text)
        finally:
            connection.close()

    def session_cookie(self, username: str) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(
            "POST", "/auth/login", body=urlencode({"username": username, "password": DEFAULT_PASSWORD}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 302, response.status
        # The session cookie, not the device cookie a sign-in also sets.
        cookies = [value.split(";", 1)[0] for value in response.msg.get_all("Set-Cookie") or []]
        connection.close()
        return next(cookie for cookie in cookies if cookie.startswith("session="))


@pytest.fixture
def server(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


def all_at_once(jobs: list[Callable[[], Reply]]) -> list[Reply]:
    """Run the jobs in threads released together by a barrier; their replies in order."""
    barrier = threading.Barrier(len(jobs))
    replies: list[Reply | BaseException | None] = [None] * len(jobs)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            replies[index] = jobs[index]()
        except BaseException as exc:  # reported below, in the test's thread
            replies[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
    assert all(isinstance(reply, Reply) for reply in replies)
    return replies  # type: ignore[return-value]


def assert_no_server_error(replies: list[Reply]) -> None:
    errors = [(r.status, r.body[:300]) for r in replies if r.status >= 500]
    assert not errors, errors


# -- sign-up -----------------------------------------------------------------------------------
NAME_VARIANTS = ["Alice", "alice", "ALICE", "aLiCe", "AlIcE", "alicE", "ALice", "aliCE"]


def test_sign_up_race_on_one_name_in_any_case_makes_one_account(server: LiveServer):
    """Web form and API at once, the same name in eight spellings, eight different addresses."""

    def sign_up(i: int) -> Callable[[], Reply]:
        name, email = NAME_VARIANTS[i % len(NAME_VARIANTS)], f"alice{i}@example.com"
        if i % 2:
            return lambda: server.request("POST", "/api/users",
                                          json_body={"username": name, "email": email, "password": PASSWORD})
        return lambda: server.request("POST", "/auth/register", form={
            "username": name, "email": email, "password": PASSWORD, "password2": PASSWORD})

    replies = all_at_once([sign_up(i) for i in range(THREADS)])
    assert_no_server_error(replies)
    created = [r for r in replies if r.status == 202 or (r.status == 302 and r.location == "/index")]
    assert len(created) == 1, [(r.status, r.location) for r in replies]
    for reply in replies:
        if reply is not created[0]:
            # The form again with the reason (200), or the API's conflict or validation answer.
            assert reply.status in (200, 409, 422), (reply.status, reply.body[:300])
            assert "taken" in reply.body or "already registered" in reply.body, reply.body[:500]
    with server.app.app_context():
        names = db.session.scalars(
            sa.select(User.username).where(sa.func.lower(User.username) == "alice")
        ).all()
    assert len(names) == 1


def test_sign_up_race_on_one_address_in_any_case_makes_one_account(server: LiveServer):
    def sign_up(i: int) -> Callable[[], Reply]:
        email = ["carol@example.com", "Carol@Example.com", "CAROL@EXAMPLE.COM"][i % 3]
        return lambda: server.request("POST", "/auth/register", form={
            "username": f"carol{i}", "email": email, "password": PASSWORD, "password2": PASSWORD})

    replies = all_at_once([sign_up(i) for i in range(THREADS)])
    assert_no_server_error(replies)
    # Every one answers as a sign-up does (no error for a taken address: its owner is mailed).
    assert all(r.status == 302 and r.location == "/index" for r in replies), [r.status for r in replies]
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)
                                 .where(User.email == "carol@example.com")) == 1


# -- follow ------------------------------------------------------------------------------------
@pytest.fixture
def pair(server: LiveServer) -> tuple[int, int]:
    with server.app.app_context():
        return make_user("alice").id, make_user("bob").id


def follow_state(app: Flask, alice_id: int, bob_id: int) -> tuple[int, int, int]:
    """(follow rows alice -> bob, alice's following_count, bob's follower_count), read fresh."""
    with app.app_context():
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(followers).where(
            followers.c.follower_id == alice_id, followers.c.followed_id == bob_id))
        alice, bob = db.session.get(User, alice_id), db.session.get(User, bob_id)
        return rows, alice.following_count, bob.follower_count


def test_follow_race_on_one_pair_makes_one_row(server: LiveServer, pair):
    cookie = server.session_cookie("alice")
    replies = all_at_once([lambda: server.request("POST", "/follow/bob", form={}, headers={"Cookie": cookie})
                           for _ in range(THREADS)])
    assert_no_server_error(replies)
    assert all(r.status == 302 and r.location == "/user/bob" for r in replies), [r.status for r in replies]
    assert follow_state(server.app, *pair) == (1, 1, 1)

    replies = all_at_once([
        lambda: server.request("POST", "/unfollow/bob", form={}, headers={"Cookie": cookie})
        for _ in range(THREADS)
    ])
    assert_no_server_error(replies)
    assert all(r.status == 302 for r in replies)
    assert follow_state(server.app, *pair) == (0, 0, 0)


def test_follow_and_unfollow_toggled_at_once_keep_the_counters_exact(server: LiveServer, pair):
    """Each thread toggles several times, web and API mixed; the counters always equal the rows."""
    cookie = server.session_cookie("alice")
    token = server.request("POST", "/api/tokens", headers={
        "Authorization": "Basic " + base64.b64encode(f"alice:{DEFAULT_PASSWORD}".encode()).decode()})
    assert token.status == 201, token.status
    bearer = {"Authorization": f"Bearer {json.loads(token.body)['token']}"}
    alice_id, bob_id = pair

    def toggler(i: int) -> Callable[[], Reply]:
        def run() -> Reply:
            last = None
            for step in range(4):
                follow = (i + step) % 2 == 0
                if i % 3 == 2:  # some through the API
                    last = server.request("POST" if follow else "DELETE", f"/api/users/{bob_id}/follow",
                                          headers=bearer)
                    assert last.status < 500, (last.status, last.body[:300])
                    assert last.status == 204, (last.status, last.body[:300])
                else:
                    last = server.request("POST", "/follow/bob" if follow else "/unfollow/bob", form={},
                                          headers={"Cookie": cookie})
                    assert last.status == 302, (last.status, last.body[:300])
            assert last is not None
            return last

        return run

    replies = all_at_once([toggler(i) for i in range(THREADS)])
    assert_no_server_error(replies)
    rows, following, followers_of_bob = follow_state(server.app, alice_id, bob_id)
    assert rows in (0, 1)
    assert following == followers_of_bob == rows


def test_block_race_makes_one_block_and_ends_the_follow_once(server: LiveServer, pair):
    alice_id, bob_id = pair
    cookie = server.session_cookie("alice")
    assert server.request("POST", "/follow/bob", form={}, headers={"Cookie": cookie}).status == 302
    assert follow_state(server.app, alice_id, bob_id) == (1, 1, 1)
    replies = all_at_once([lambda: server.request("POST", "/block/bob", form={}, headers={"Cookie": cookie})
                           for _ in range(THREADS)])
    assert_no_server_error(replies)
    assert all(r.status == 302 and r.location == "/user/bob" for r in replies), [r.status for r in replies]
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 1
    assert follow_state(server.app, alice_id, bob_id) == (0, 0, 0)


# -- OAuth codes -------------------------------------------------------------------------------
def test_code_race_gives_one_token(server: LiveServer):
    """A Mastodon app's authorization code sent by many requests at once: one token, the rest refused."""
    from tests.factories import signed_in_client
    from tests.mastodon_helpers import code_from, consent, register_app

    with server.app.app_context():
        make_user("alice")
    browser = signed_in_client(server.app, "alice")
    registered = register_app(browser)
    code = code_from(consent(browser, registered))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example/callback",
            "client_id": registered["client_id"], "client_secret": registered["client_secret"]}
    replies = all_at_once([lambda: server.request("POST", "/oauth/token", form=form) for _ in range(THREADS)])
    assert_no_server_error(replies)
    assert sorted(reply.status for reply in replies) == [200] + [400] * (THREADS - 1)
    with server.app.app_context():
        from microblog.models import OAuthAccessToken

        live = db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAccessToken)
                                 .where(OAuthAccessToken.revoked_at.is_(None)))
        assert live <= 1  # a reuse may revoke the winner's token too (RFC 6749 4.1.2), never add one
