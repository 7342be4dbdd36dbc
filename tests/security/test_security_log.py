"""Security events are logged on "microblog.security" as one JSON line each, in UTC, with no secrets:
sign-in success and failure, logout, password change, reset requested and done, tokens issued and revoked,
refusals (403) and rate limits (429)."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from microblog.extensions import db, limiter
from microblog.models import User
from microblog.signed_tokens import reset_token
from tests.factories import DEFAULT_PASSWORD, make_post, make_user

EMAIL = "alice.private@example.com"
NEW_PASSWORD = "another-long-passphrase"
WRONG_PASSWORD = "my-wrong-but-secret-guess"


def events(caplog) -> list[dict]:
    records = [r for r in caplog.records if r.name == "microblog.security"]
    lines = [r.getMessage() for r in records]
    assert all("\n" not in line for line in lines)
    return [json.loads(line) for line in lines]


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_account_events_are_logged_without_secrets(make_app, caplog):
    caplog.set_level(logging.INFO, logger="microblog.security")
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="1000 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per hour"
    )
    with app.app_context():
        limiter.reset()
        alice_id = make_user("alice", email=EMAIL).id
        bob = make_user("bob")
        bob_id, post_id = bob.id, make_post(bob).id
    web = app.test_client()
    web.post("/auth/login", data={"username": "nobody", "password": WRONG_PASSWORD})
    web.post("/auth/login", data={"username": "alice", "password": WRONG_PASSWORD})
    web.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    web.post(f"/post/{post_id}/delete")  # not hers: 403
    web.post("/auth/change_password", data={"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD,
                                            "password2": NEW_PASSWORD})
    token = web.post("/api/tokens", headers=basic("alice", NEW_PASSWORD)).json["token"]
    web.delete("/api/tokens", headers={"Authorization": f"Bearer {token}"})
    web.post("/auth/logout")
    web.post("/auth/reset_password_request", data={"email": EMAIL})
    web.post("/auth/reset_password_request", data={"email": "stranger@example.com"})
    with app.app_context():
        link = "/auth/reset_password/" + reset_token(db.session.get(User, alice_id))
    web.post(link, data={"password": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD})
    for _ in range(3):
        web.post("/auth/login", data={"username": "bob", "password": WRONG_PASSWORD})
    assert web.post("/auth/login", data={"username": "bob", "password": DEFAULT_PASSWORD}).status_code == 429

    logged = events(caplog)
    names = [event["event"] for event in logged]
    for expected in ("login.failure", "login.success", "forbidden", "password.changed", "token.issued",
                     "token.revoked", "logout", "reset.requested", "reset.done", "rate_limited"):
        assert expected in names, expected
    by_name = {}
    for event in logged:
        by_name.setdefault(event["event"], []).append(event)
    assert {e.get("reason") for e in by_name["login.failure"]} == {"unknown_user", "wrong_password"}
    assert by_name["login.success"][0]["user_id"] == alice_id
    assert by_name["forbidden"][0]["status"] == 403 and by_name["forbidden"][0]["user_id"] == alice_id
    assert by_name["password.changed"][0]["user_id"] == alice_id
    assert by_name["logout"][0]["user_id"] == alice_id
    assert by_name["reset.done"][0]["user_id"] == alice_id
    requested = by_name["reset.requested"]
    assert requested[0]["user_id"] == alice_id and requested[1]["known"] is False
    assert len(requested[0]["address"]) == 16 and requested[0]["address"] != requested[1]["address"]
    limited = by_name["rate_limited"][0]
    assert limited["status"] == 429 and limited["limit"] and limited["route"] == "/auth/login"
    assert bob_id not in [e.get("user_id") for e in by_name["login.success"]]

    now = datetime.now(UTC)
    for event in logged:
        assert event["ts"].endswith("Z")
        assert now - datetime.fromisoformat(event["ts"]) < timedelta(minutes=5)
        assert event["ip"] == "127.0.0.1"
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "microblog.security")
    for secret in (DEFAULT_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, token, EMAIL, "alice.private",
                   "stranger@example.com", "nobody", link.rsplit("/", 1)[1]):
        assert secret not in text, secret


def test_api_refusals_and_limits_are_logged(make_app, caplog):
    caplog.set_level(logging.INFO, logger="microblog.security")
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_API_WRITES="1 per minute")
    with app.app_context():
        limiter.reset()
        make_user("alice")
        bob_id = make_user("bob").id
    client = app.test_client()
    token = client.post("/api/tokens", headers=basic("alice", DEFAULT_PASSWORD)).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.put(f"/api/users/{bob_id}", json={"about_me": "x"}, headers=headers).status_code == 403
    assert client.put(f"/api/users/{bob_id}", json={"about_me": "x"}, headers=headers).status_code == 429
    logged = events(caplog)
    statuses = [(e["event"], e.get("status")) for e in logged if e["event"] in ("forbidden", "rate_limited")]
    assert statuses == [("forbidden", 403), ("rate_limited", 429)]
    with app.app_context():
        alice_id = db.session.scalar(sa.select(User.id).where(User.username == "alice"))
    assert all(e.get("user_id") == alice_id for e in logged if e["event"] in ("forbidden", "rate_limited"))
    assert token not in "\n".join(r.getMessage() for r in caplog.records if r.name == "microblog.security")
