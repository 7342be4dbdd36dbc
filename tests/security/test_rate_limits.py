"""Rate limits per account and per address, on top of those per client address: sign-in failures (web and
POST /api/tokens together), reset requests, posts and follows (web and API together). Small limits here;
the defaults are the figures in config.py."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from microblog.extensions import db, limiter
from microblog.models import Post, followers
from tests.factories import DEFAULT_PASSWORD, make_user

LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


@pytest.fixture
def limited(make_app):
    def build(**limits):
        # Per-address limits out of the way, so what is tested is the per-account one.
        settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "1000 per minute",
                    "RATELIMIT_RESET": "1000 per minute", "RATELIMIT_API_WRITES": "1000 per minute",
                    "RATELIMIT_API": "1000 per minute", **limits}
        app = make_app(**settings)
        with app.app_context():
            limiter.reset()
            make_user("alice", email="alice@example.com"), make_user("bob"), make_user("carol")
        return app

    return build


def from_address(app, address: str):
    """A client at its own IP address: per-address limits cannot be what stops it."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def login(client, username: str, password: str = "wrong-password"):
    return client.post("/auth/login", data={"username": username, "password": password})


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def assert_limited(response) -> None:
    assert response.status_code == 429
    for header in LIMIT_HEADERS:
        assert header in response.headers, header


def test_failed_sign_ins_are_limited_per_account_across_addresses_and_the_api(limited):
    app = limited(RATELIMIT_LOGIN_ACCOUNT="3 per hour")
    statuses = [login(from_address(app, f"10.0.0.{n}"), name).status_code
                for n, name in enumerate(["alice", "ALICE", "Alice"], start=1)]
    assert statuses == [200, 200, 200]
    # The account's allowance is spent: from a new address, the form and the API both refuse, even
    # the right password.
    assert_limited(login(from_address(app, "10.0.0.9"), "alice", DEFAULT_PASSWORD))
    api = from_address(app, "10.0.0.10").post("/api/tokens", headers=basic("alice", DEFAULT_PASSWORD))
    assert_limited(api)
    assert api.json["error"] == "Too many requests"
    # Other accounts are not affected.
    assert login(from_address(app, "10.0.0.9"), "bob", DEFAULT_PASSWORD).status_code == 302
    response = from_address(app, "10.0.0.9").post("/api/tokens", headers=basic("bob", DEFAULT_PASSWORD))
    assert response.status_code == 201


def test_token_failures_count_against_the_same_account_allowance(limited):
    app = limited(RATELIMIT_LOGIN_ACCOUNT="2 per hour")
    client = from_address(app, "10.0.1.1")
    assert client.post("/api/tokens", headers=basic("alice", "wrong-password")).status_code == 401
    assert login(from_address(app, "10.0.1.2"), "alice").status_code == 200
    assert_limited(
        from_address(app, "10.0.1.3").post("/api/tokens", headers=basic("alice", DEFAULT_PASSWORD))
    )


def test_successful_sign_ins_do_not_count(limited):
    app = limited(RATELIMIT_LOGIN_ACCOUNT="2 per hour")
    for n in range(5):
        assert login(from_address(app, f"10.0.2.{n}"), "alice", DEFAULT_PASSWORD).status_code == 302
    response = from_address(app, "10.0.2.9").post("/api/tokens", headers=basic("alice", DEFAULT_PASSWORD))
    assert response.status_code == 201
    assert login(from_address(app, "10.0.2.8"), "alice").status_code == 200


def test_reset_requests_are_limited_per_address_known_or_not(limited):
    app = limited(RATELIMIT_RESET_ADDRESS="2 per 30 minutes")
    for email in ("alice@example.com", "nobody@example.com"):
        answers = [
            from_address(app, f"10.0.3.{n}").post("/auth/reset_password_request", data={"email": email})
            for n in range(3)
        ]
        assert [a.status_code for a in answers[:2]] == [302, 302]
        assert_limited(answers[2])
    assert from_address(app, "10.0.3.9").post(
        "/auth/reset_password_request", data={"email": "ALICE@example.com "}).status_code == 429
    assert from_address(app, "10.0.3.9").post(
        "/auth/reset_password_request", data={"email": "carol@example.com"}).status_code == 302


def signed_in(app, username: str, address: str):
    client = from_address(app, address)
    assert login(client, username, DEFAULT_PASSWORD).status_code == 302
    return client


def bearer(app, username: str, address: str) -> dict[str, str]:
    response = from_address(app, address).post("/api/tokens", headers=basic(username, DEFAULT_PASSWORD))
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json['token']}"}


def test_posts_are_limited_per_account_on_the_web_and_the_api_together(limited):
    app = limited(RATELIMIT_POSTS="3 per hour")
    web, api = signed_in(app, "alice", "10.0.4.1"), from_address(app, "10.0.4.2")
    headers = bearer(app, "alice", "10.0.4.2")
    assert web.post("/", data={"post": "one"}).status_code == 302
    assert api.post("/api/posts", json={"body": "two"}, headers=headers).status_code == 201
    assert web.post("/", data={"post": "three"}).status_code == 302
    assert_limited(api.post("/api/posts", json={"body": "four"}, headers=headers))
    assert_limited(signed_in(app, "alice", "10.0.4.3").post("/", data={"post": "five"}))
    assert web.get("/").status_code == 200  # reading the timeline is not limited
    assert signed_in(app, "bob", "10.0.4.1").post("/", data={"post": "bob's"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 4


def test_follows_are_limited_per_account_on_the_web_and_the_api_together(limited):
    app = limited(RATELIMIT_FOLLOWS="2 per day")
    with app.app_context():
        for name in ("dave", "erin"):
            make_user(name)
        ids = {name: db.session.scalar(sa.text("SELECT id FROM \"user\" WHERE username = :n"), {"n": name})
               for name in ("bob", "carol", "dave")}
    web = signed_in(app, "alice", "10.0.5.1")
    headers = bearer(app, "alice", "10.0.5.2")
    assert web.post("/follow/bob").status_code == 302
    response = from_address(app, "10.0.5.2").post(f"/api/users/{ids['carol']}/follow", headers=headers)
    assert response.status_code == 204
    assert_limited(from_address(app, "10.0.5.2").post(f"/api/users/{ids['dave']}/follow", headers=headers))
    assert_limited(web.post("/follow/erin"))
    assert signed_in(app, "bob", "10.0.5.1").post("/follow/alice").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 3


def test_guesses_at_the_current_password_are_limited_like_sign_ins(limited):
    app = limited(RATELIMIT_LOGIN="2 per minute")
    browser = signed_in(app, "alice", "10.0.6.1")
    guess = {
        "current_password": "wrong-password", "password": "a-new-passphrase", "password2": "a-new-passphrase"
    }
    assert [browser.post("/auth/change_password", data=guess).status_code for _ in range(2)] == [200, 200]
    assert_limited(browser.post("/auth/change_password", data=guess))
    assert browser.get("/auth/change_password").status_code == 200


# -- the JSON API: per account behind a token, per address without one -------------------------------
def users_with_tokens(app, count: int, address: str) -> list[dict[str, str]]:
    """``count`` accounts, each with a bearer token taken from the same client address."""
    with app.app_context():
        names = [make_user(f"member{n}").username for n in range(count)]
    return [bearer(app, name, address) for name in names]


def test_api_writes_are_counted_per_account_not_per_address(limited):
    """A dozen people behind one address (an office, a carrier's NAT) each get the whole allowance."""
    app = limited(RATELIMIT_API_WRITES="3 per minute")
    office = from_address(app, "10.0.7.1")
    tokens = users_with_tokens(app, 12, "10.0.7.1")
    for n, headers in enumerate(tokens):
        statuses = [office.post("/api/posts", json={"body": f"{n}.{i}"}, headers=headers).status_code
                    for i in range(3)]
        assert statuses == [201, 201, 201], (n, statuses)
    # One account past its allowance is refused, from any address and with any of its tokens.
    assert_limited(office.post("/api/posts", json={"body": "one too many"}, headers=tokens[0]))
    another_token = bearer(app, "member0", "10.0.7.2")
    elsewhere = from_address(app, "10.0.7.2")
    assert_limited(elsewhere.post("/api/posts", json={"body": "x"}, headers=another_token))
    # Writes of every kind share the allowance: a follow after three posts is refused too.
    with app.app_context():
        bob_id = db.session.scalar(sa.text("SELECT id FROM \"user\" WHERE username = 'bob'"))
    assert_limited(office.post(f"/api/users/{bob_id}/follow", headers=tokens[1]))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 36


def test_api_calls_are_counted_per_account_with_a_token_and_per_address_without(limited):
    app = limited(RATELIMIT_API="4 per minute")
    headers = users_with_tokens(app, 2, "10.0.8.1")
    anonymous = from_address(app, "10.0.8.1")
    # Without a token: one allowance per address, for every part of the API together.
    paths = ("/api/posts", "/api/users", "/api/posts", "/api/users")
    assert [anonymous.get(path).status_code for path in paths] == [200] * 4
    assert_limited(anonymous.get("/api/posts"))
    # A made-up token is no token: it does not buy a fresh allowance (nor guesses at real tokens).
    made_up = {"Authorization": "Bearer not-a-real-token-0123456789"}
    assert_limited(anonymous.get("/api/posts", headers=made_up))
    assert from_address(app, "10.0.8.2").get("/api/posts").status_code == 200
    # Each account has its own allowance, from the same address.
    for token in headers:
        assert [anonymous.get("/api/timeline", headers=token).status_code for _ in range(4)] == [200] * 4
        assert_limited(anonymous.get("/api/posts", headers=token))


@pytest.mark.parametrize("case", ["every call", "writes", "posts per account", "token creation"])
def test_api_429s_carry_the_headers_the_readme_promises(limited, case):
    """X-RateLimit-Limit (the limit that was reached), -Remaining (0), -Reset (when it resets, in Unix
    seconds) and Retry-After (seconds until then), as the web pages send them."""
    import time

    settings = {"every call": {"RATELIMIT_API": "2 per minute"},
                "writes": {"RATELIMIT_API_WRITES": "2 per minute"},
                "posts per account": {"RATELIMIT_POSTS": "2 per hour"},
                "token creation": {"RATELIMIT_LOGIN": "2 per minute"}}[case]
    app = limited(**settings)
    client = from_address(app, "10.0.9.1")
    headers = bearer(app, "alice", "10.0.9.2")
    if case == "token creation":
        send = lambda: client.post("/api/tokens", headers=basic("alice", DEFAULT_PASSWORD))  # noqa: E731
    elif case == "every call":
        send = lambda: client.get("/api/timeline", headers=headers)  # noqa: E731
    else:
        send = lambda: client.post("/api/posts", json={"body": "hello"}, headers=headers)  # noqa: E731
    answers = [send() for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [201 if case != "every call" else 200] * 2
    refused = answers[2]
    assert_limited(refused)
    assert refused.is_json and refused.json["error"] == "Too many requests"
    assert refused.headers["X-RateLimit-Limit"] == "2"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    reset, retry_after = int(refused.headers["X-RateLimit-Reset"]), int(refused.headers["Retry-After"])
    assert reset > time.time() and 0 < retry_after <= 3600
    assert abs(reset - time.time() - retry_after) <= 2
    # The web pages say the same things the same way.
    web = login(from_address(app, "10.0.9.3"), "alice")
    assert all(web.headers.get(name) for name in LIMIT_HEADERS)


def test_the_default_store_without_redis_is_a_shared_file_whose_windows_expire(
    make_app, tmp_path, monkeypatch
):
    """Nothing configured: the counters live in INSTANCE_DIR/ratelimits.sqlite (tests/faults/
    test_shared_limits.py shows two gunicorn workers sharing it); a window that ends starts afresh.

    The store's clock is the test's: a slow sign-in on a loaded machine cannot end the window early.
    """
    from types import SimpleNamespace

    from microblog import limit_storage

    clock = [1_000_000.0]
    monkeypatch.setattr(limit_storage, "time", SimpleNamespace(time=lambda: clock[0]))
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="", RATELIMIT_LOGIN="2 per 2 seconds")
    assert app.config["RATELIMIT_STORAGE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'ratelimits.sqlite'}"
    with app.app_context():
        limiter.reset()
        make_user("alice")
    client = from_address(app, "10.0.10.1")
    assert [login(client, "alice").status_code for _ in range(2)] == [200, 200]
    assert_limited(login(client, "alice"))
    assert login(from_address(app, "10.0.10.2"), "alice").status_code == 200
    clock[0] += 2.1
    assert login(client, "alice").status_code == 200
    assert (tmp_path / "instance" / "ratelimits.sqlite").exists()
