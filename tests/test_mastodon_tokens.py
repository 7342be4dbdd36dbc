"""The token and revocation endpoints of the OAuth server for Mastodon apps (docs: methods/oauth): the
code flow, its error paths (reused, expired, wrong URI, wrong app, PKCE, client authentication), client
credentials, refresh tokens, no password grant, revocation, and what ends a token."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db, limiter
from microblog.models import OAuthAccessToken, OAuthAuthorizationCode, User
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_user, signed_in_client
from tests.mastodon_helpers import (
    CALLBACK,
    bearer,
    code_from,
    consent,
    exchange,
    pkce_pair,
    register_app,
    user_token,
)


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("alice")
    return signed_in_client(app, "alice")


# -- POST /oauth/token -----------------------------------------------------------------------------
def test_the_code_flow_gives_a_token_entity_with_every_scope_asked_for(app, alice):
    registered = register_app(alice)
    response = exchange(alice, registered, code_from(consent(alice, registered)))
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"access_token", "token_type", "scope", "created_at", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write follow push"
    assert isinstance(body["created_at"], int) and abs(body["created_at"] - time.time()) < 60
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        stored = db.session.scalar(sa.select(OAuthAccessToken))
        assert stored.token_digest != body["access_token"] and stored.user.username == "alice"
        assert stored.refresh_token_digest not in (None, body["refresh_token"])


def test_a_code_works_once_and_its_reuse_revokes_what_it_gave(alice):
    registered = register_app(alice)
    code = code_from(consent(alice, registered))
    first = exchange(alice, registered, code)
    assert first.status_code == 200
    again = exchange(alice, registered, code)
    assert again.status_code == 400
    assert again.json["error"] == "invalid_grant" and again.json["error_description"]
    verify = alice.get("/api/v1/accounts/verify_credentials", headers=bearer(first.json["access_token"]))
    assert verify.status_code == 401


def test_an_expired_code_is_refused(app, alice):
    registered = register_app(alice)
    code = code_from(consent(alice, registered))
    with app.app_context():
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(sa.update(OAuthAuthorizationCode).values(expires_at=past))
        db.session.commit()
    assert exchange(alice, registered, code).json["error"] == "invalid_grant"


@pytest.mark.parametrize("change", [
    {"redirect_uri": "https://app.example/other"},
    {"code": "wrong"},
    {"code": ""},
])
def test_a_code_must_match_its_redirect_uri(alice, change):
    registered = register_app(alice)
    code = code_from(consent(alice, registered))
    data = {"grant_type": "authorization_code", "code": code, "client_id": registered["client_id"],
            "client_secret": registered["client_secret"], "redirect_uri": CALLBACK, **change}
    response = alice.post("/oauth/token", data=data)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_a_code_of_another_app_is_refused(alice):
    mine, other = register_app(alice), register_app(alice)
    code = code_from(consent(alice, mine))
    assert exchange(alice, other, code).json["error"] == "invalid_grant"


def test_pkce_verifier_must_match_the_challenge(alice):
    registered = register_app(alice)
    verifier, challenge = pkce_pair()
    code = code_from(consent(alice, registered, code_challenge=challenge, code_challenge_method="S256"))
    assert exchange(alice, registered, code, code_verifier="w" * 50).json["error"] == "invalid_grant"
    code = code_from(consent(alice, registered, code_challenge=challenge, code_challenge_method="S256"))
    assert exchange(alice, registered, code).json["error"] == "invalid_grant"  # no verifier at all
    code = code_from(consent(alice, registered, code_challenge=challenge, code_challenge_method="S256"))
    assert exchange(alice, registered, code, code_verifier=verifier).status_code == 200


@pytest.mark.parametrize("credentials", [
    {"client_id": "nobody", "client_secret": "x"},
    {"client_secret": "wrong"},
    {"client_secret": ""},
])
def test_bad_client_credentials_are_401_invalid_client(alice, credentials):
    registered = register_app(alice)
    code = code_from(consent(alice, registered))
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "client_id": registered["client_id"], "client_secret": registered["client_secret"], **credentials}
    response = alice.post("/oauth/token", data=data)
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_http_basic_client_authentication_and_json_bodies(alice):
    registered = register_app(alice)
    code = code_from(consent(alice, registered))
    raw = base64.b64encode(f"{registered['client_id']}:{registered['client_secret']}".encode()).decode()
    response = alice.post("/oauth/token", json={"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": CALLBACK},
                          headers={"Authorization": f"Basic {raw}"})
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("grant_type", ["password", "implicit", ""])
def test_no_password_grant(alice, grant_type):
    registered = register_app(alice)
    response = alice.post("/oauth/token", data={"grant_type": grant_type, "username": "alice",
                                                "password": DEFAULT_PASSWORD,
                                                "client_id": registered["client_id"],
                                                "client_secret": registered["client_secret"]})
    assert response.status_code == 400 and response.json["error"] == "unsupported_grant_type"


def _refresh(client, registered: dict, refresh_token: str, **extra):
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                             "client_id": registered["client_id"],
                                             "client_secret": registered["client_secret"], **extra})


def _me(client, token: str) -> int:
    return client.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code


def test_a_refresh_token_gives_a_new_pair_once_and_ends_the_old_token(alice):
    registered = register_app(alice)
    first = exchange(alice, registered, code_from(consent(alice, registered))).json
    renewed = _refresh(alice, registered, first["refresh_token"])
    assert renewed.status_code == 200, renewed.json
    second = renewed.json
    assert second["scope"] == "read write follow push"
    assert {second["access_token"], second["refresh_token"]}.isdisjoint(
        {first["access_token"], first["refresh_token"]})
    assert _me(alice, first["access_token"]) == 401 and _me(alice, second["access_token"]) == 200
    narrower = _refresh(alice, registered, second["refresh_token"], scope="read").json
    assert narrower["scope"] == "read"


def test_a_refresh_token_used_twice_ends_every_token_of_that_app(alice):
    registered = register_app(alice)
    first = exchange(alice, registered, code_from(consent(alice, registered))).json
    second = _refresh(alice, registered, first["refresh_token"]).json
    replay = _refresh(alice, registered, first["refresh_token"])
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    # The stolen token's twin is gone too: the thief and the app both sign in again.
    assert _me(alice, second["access_token"]) == 401


@pytest.mark.parametrize("case", ["unknown", "other app", "wider scope", "too long", "missing"])
def test_refresh_refusals(alice, case):
    registered, other = register_app(alice), register_app(alice)
    pair = exchange(alice, registered, code_from(consent(alice, registered, scope="read"))).json
    token, extra, client_app = pair["refresh_token"], {}, registered
    if case == "unknown":
        token = "x" * 43
    elif case == "other app":
        client_app = other
    elif case == "wider scope":
        extra = {"scope": "read write"}
    elif case == "too long":
        token = "x" * 5000
    elif case == "missing":
        token = ""
    response = _refresh(alice, client_app, token, **extra)
    assert response.status_code in (400, 401), response.json
    assert response.json["error"] in ("invalid_grant", "invalid_scope")


def test_app_tokens_have_no_refresh_token(client):
    registered = register_app(client, scopes="read")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "client_id": registered["client_id"],
                                                 "client_secret": registered["client_secret"]})
    assert response.status_code == 200 and "refresh_token" not in response.json


def test_client_credentials_give_an_app_token_without_a_user(app, client):
    registered = register_app(client, scopes="read write")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "read",
                                                 "client_id": registered["client_id"],
                                                 "client_secret": registered["client_secret"]})
    assert response.status_code == 200 and response.json["scope"] == "read"
    token = response.json["access_token"]
    assert client.get("/api/v1/apps/verify_credentials", headers=bearer(token)).json["name"] == "Test App"
    # No user behind it: what needs one is refused as Mastodon refuses it.
    refused = client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert refused.status_code == 422
    assert refused.json == {"error": "This method requires an authenticated user"}
    with app.app_context():
        assert db.session.scalar(sa.select(OAuthAccessToken)).user_id is None


def test_client_credentials_scopes_must_be_the_apps(client):
    registered = register_app(client, scopes="read")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "write",
                                                 "client_id": registered["client_id"],
                                                 "client_secret": registered["client_secret"]})
    assert response.status_code == 400 and response.json["error"] == "invalid_scope"


def test_token_and_revoke_need_no_csrf_token(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    registered = register_app(client)
    data = {"grant_type": "client_credentials", "client_id": registered["client_id"],
            "client_secret": registered["client_secret"]}
    token = client.post("/oauth/token", data=data)
    assert token.status_code == 200
    data = {"token": token.json["access_token"], "client_id": registered["client_id"],
            "client_secret": registered["client_secret"]}
    assert client.post("/oauth/revoke", data=data).status_code == 200


# -- POST /oauth/revoke ----------------------------------------------------------------------------
def test_revoking_a_token_ends_it_and_is_idempotent(alice):
    registered = register_app(alice)
    token = user_token(alice, registered)
    data = {"token": token, "client_id": registered["client_id"],
            "client_secret": registered["client_secret"]}
    response = alice.post("/oauth/revoke", data=data)
    assert response.status_code == 200 and response.json == {}
    assert alice.post("/oauth/revoke/", data=data).json == {}
    refused = alice.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert refused.status_code == 401 and refused.json == {"error": "The access token is invalid"}


def test_an_app_cannot_revoke_another_apps_token(alice):
    mine, other = register_app(alice), register_app(alice)
    token = user_token(alice, mine)
    response = alice.post("/oauth/revoke", data={"token": token, "client_id": other["client_id"],
                                                 "client_secret": other["client_secret"]})
    assert response.status_code == 403 and response.json["error"] == "unauthorized_client"
    assert alice.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code == 200


def test_revoking_needs_the_apps_secret(alice):
    registered = register_app(alice)
    token = user_token(alice, registered)
    response = alice.post("/oauth/revoke", data={"token": token, "client_id": registered["client_id"],
                                                 "client_secret": "wrong"})
    assert response.status_code == 401
    assert alice.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code == 200


def test_suspended_accounts_tokens_still_read(app, alice):
    registered = register_app(alice)
    token = user_token(alice, registered)
    with app.app_context():
        db.session.execute(sa.update(User).values(suspended_at=utcnow()))
        db.session.commit()
    assert alice.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code == 200


def test_the_token_endpoint_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    data = {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    assert [client.post("/oauth/token", data=data).status_code for _ in range(2)] == [401, 401]
    refused = client.post("/oauth/token", data=data)
    assert refused.status_code == 429 and refused.json == {"error": "Too many requests"}


def test_a_new_password_ends_every_apps_access(alice):
    registered = register_app(alice)
    token = user_token(alice, registered)
    new = "a brand new passphrase"
    form = {"current_password": DEFAULT_PASSWORD, "password": new, "password2": new}
    response = alice.post("/auth/change_password", data=form)
    assert response.status_code == 302
    assert alice.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code == 401
