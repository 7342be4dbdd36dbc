"""The API of the account's address: GET and POST /api/account/email."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from microblog import totp
from microblog.extensions import db, limiter
from microblog.models import EmailChange, OutboxMessage, User
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, basic, make_user, token_for


@pytest.fixture
def bearer(app, client):
    with app.app_context():
        make_user("alice", email="alice@example.com", confirmed_at=utcnow())
    return token_for(client)


def test_get_shows_the_address_and_no_pending_change(client, bearer):
    response = client.get("/api/account/email", headers=bearer)
    assert response.status_code == 200
    assert response.json == {"email": "alice@example.com", "confirmed": True, "pending": None}


def test_post_records_a_pending_change_and_answers_202(app, client, bearer):
    body = {"email": "New@Example.org", "password": DEFAULT_PASSWORD}
    response = client.post("/api/account/email", json=body, headers=bearer)
    assert response.status_code == 202, response.json
    assert response.json["email"] == "alice@example.com"
    assert response.json["pending"]["email"] == "new@example.org"
    assert set(response.json["pending"]) == {"email", "requested_at", "expires_at"}
    assert client.get("/api/account/email", headers=bearer).json["pending"]["email"] == "new@example.org"
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.recipient)) == "new@example.org"


def test_a_taken_address_answers_the_same(app, client, bearer):
    with app.app_context():
        make_user("bob", email="bob@example.org")
    body = {"email": "bob@example.org", "password": DEFAULT_PASSWORD}
    response = client.post("/api/account/email", json=body, headers=bearer)
    assert response.status_code == 202
    assert response.json["pending"]["email"] == "bob@example.org"


@pytest.mark.parametrize("body, field", [
    ({"email": "new@example.org", "password": "wrong-password"}, "password"),
    ({"email": "not-an-address", "password": DEFAULT_PASSWORD}, "email"),
    ({"email": "new@example.org"}, "password"),
    ({"email": "new@example.org", "password": DEFAULT_PASSWORD, "admin": True}, "admin"),
    ({"email": 42, "password": DEFAULT_PASSWORD}, "email"),
])
def test_bad_requests_are_422_naming_the_field(app, client, bearer, body, field):
    response = client.post("/api/account/email", json=body, headers=bearer)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert {"error", "message"} <= set(response.json)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailChange)) == 0


def test_without_a_token_it_is_401(client):
    assert client.get("/api/account/email").status_code == 401
    assert client.post("/api/account/email", json={"email": "a@b.org", "password": "x"}).status_code == 401


def test_with_two_factor_on_otp_is_needed(app, client, monkeypatch):
    frozen = 1_800_000_015.0
    monkeypatch.setattr(totp, "time", SimpleNamespace(time=lambda: frozen))
    secret = totp.new_secret()
    with app.app_context():
        make_user("alice", email="alice@example.com", totp_secret=secret, totp_enabled_at=utcnow())
    token = client.post("/api/tokens", headers={**basic("alice"), "X-OTP": totp.code_at(secret, frozen - 30)})
    bearer = {"Authorization": f"Bearer {token.json['token']}"}
    body = {"email": "new@example.org", "password": DEFAULT_PASSWORD}
    response = client.post("/api/account/email", json=body, headers=bearer)
    assert response.status_code == 422 and "otp" in response.json["errors"]["json"]
    good = totp.code_at(secret, frozen)
    assert client.post("/api/account/email", json={**body, "otp": good}, headers=bearer).status_code == 202


def test_requests_are_rate_limited_per_account(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_EMAIL_CHANGE="1 per hour")
    with app.app_context():
        limiter.reset()
        make_user("alice", email="alice@example.com")
    client = app.test_client()
    bearer = token_for(client)
    body = {"email": "new@example.org", "password": DEFAULT_PASSWORD}
    assert client.post("/api/account/email", json=body, headers=bearer).status_code == 202
    response = client.post("/api/account/email", json=body, headers=bearer)
    assert response.status_code == 429 and "error" in response.json
    with app.app_context():
        assert db.session.scalar(sa.select(User.email)) == "alice@example.com"
