"""The OAuth 2 server of the Mastodon-compatible API, up to the code: app registration, the server
metadata, the consent page and its error paths (Mastodon's docs: methods/apps, methods/oauth).
The token and revocation endpoints are in test_mastodon_tokens.py."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from microblog import totp
from microblog.extensions import db
from microblog.models import AuditLogEntry, OAuthApplication, OAuthAuthorizationCode
from microblog.services import audit
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_user, signed_in_client
from tests.mastodon_helpers import (
    CALLBACK,
    OOB,
    authorize_query,
    code_from,
    consent,
    exchange,
    register_app,
)


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("alice")
    return signed_in_client(app, "alice")


def query_of(response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["Location"]).query)


# -- POST /api/v1/apps -----------------------------------------------------------------------------
def test_registering_an_app_answers_a_credential_application_and_keeps_only_a_digest(app, client):
    body = register_app(client)
    assert set(body) >= {"id", "name", "website", "scopes", "redirect_uri", "redirect_uris", "client_id",
                         "client_secret", "client_secret_expires_at"}
    assert body["scopes"] == ["read", "write", "follow", "push"]
    assert body["redirect_uris"] == [CALLBACK] and body["redirect_uri"] == CALLBACK
    assert isinstance(body["id"], str) and body["client_secret_expires_at"] == 0
    with app.app_context():
        row = db.session.scalar(sa.select(OAuthApplication))
        assert row.client_id == body["client_id"]
        assert body["client_secret"] not in (row.client_secret_digest, row.client_id)


def test_json_with_a_list_of_redirect_uris_and_the_default_scope(client):
    response = client.post("/api/v1/apps/", json={"client_name": "J", "redirect_uris": [CALLBACK, OOB]})
    assert response.status_code == 200
    assert response.json["redirect_uris"] == [CALLBACK, OOB]
    assert response.json["redirect_uri"] == f"{CALLBACK}\n{OOB}"
    assert response.json["scopes"] == ["read"]


def test_newline_separated_redirect_uris(client):
    body = register_app(client, redirect_uris=f"{CALLBACK}\nmyapp://oauth")
    assert body["redirect_uris"] == [CALLBACK, "myapp://oauth"]


@pytest.mark.parametrize("data", [
    {"redirect_uris": CALLBACK},
    {"client_name": "x", "redirect_uris": ""},
    {"client_name": "x", "redirect_uris": "not a uri"},
    {"client_name": "x", "redirect_uris": "/relative"},
    {"client_name": "x", "redirect_uris": "javascript:alert(1)"},
    {"client_name": "x", "redirect_uris": "https://app.example/cb#fragment"},
    {"client_name": "x", "redirect_uris": CALLBACK, "scopes": "read nonsense"},
    {"client_name": "x" * 101, "redirect_uris": CALLBACK},
    {"client_name": "x", "redirect_uris": CALLBACK, "website": "ftp://app.example"},
])
def test_invalid_registrations_are_422_with_mastodons_error(client, data):
    response = client.post("/api/v1/apps", data=data)
    assert response.status_code == 422
    assert response.json["error"].startswith("Validation failed")


def test_registration_needs_no_csrf_token(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    assert client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB}).status_code == 200


# -- the authorization server's metadata -----------------------------------------------------------
def test_metadata_lists_the_endpoints_scopes_and_grants(client):
    body = client.get("/.well-known/oauth-authorization-server").json
    assert body["issuer"] == "http://microblog.test/"
    assert body["authorization_endpoint"] == "http://microblog.test/oauth/authorize"
    assert body["token_endpoint"] == "http://microblog.test/oauth/token"
    assert body["revocation_endpoint"] == "http://microblog.test/oauth/revoke"
    assert body["app_registration_endpoint"] == "http://microblog.test/api/v1/apps"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["grant_types_supported"] == ["authorization_code", "refresh_token", "client_credentials"]
    assert body["response_types_supported"] == ["code"]
    assert body["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert {"read", "write", "follow", "push", "profile", "read:statuses", "write:media"} <= set(
        body["scopes_supported"])
    assert "password" not in body["grant_types_supported"]


# -- GET /oauth/authorize --------------------------------------------------------------------------
def test_signed_out_goes_to_sign_in_and_comes_back(app, client):
    with app.app_context():
        make_user("alice")
    registered = register_app(client)
    query = authorize_query(registered, force_login="true", state="s1")
    response = client.get("/oauth/authorize/", query_string=query)  # toot's trailing slash
    assert response.status_code == 302
    login = response.headers["Location"]
    assert login.startswith("/auth/login?next=")
    back = client.post(login, data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert back.status_code == 302
    assert back.headers["Location"].startswith("/oauth/authorize?")
    assert "force_login" not in back.headers["Location"]  # else it would sign out again, for ever
    page = client.get(back.headers["Location"])
    assert page.status_code == 200
    assert "Authorize Test App?" in page.get_data(as_text=True)


def test_sign_in_with_two_factor_comes_back_too(app, client):
    with app.app_context():
        user = make_user("alice")
        user.totp_secret = totp.new_secret()
        user.totp_enabled_at = utcnow()
        db.session.commit()
        secret = user.totp_secret
    registered = register_app(client)
    login = client.get("/oauth/authorize", query_string=authorize_query(registered)).headers["Location"]
    step = client.post(login, data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert step.status_code == 302 and "two_factor" in step.headers["Location"]
    done = client.post(step.headers["Location"], data={"code": totp.code_at(secret, time.time())})
    assert done.status_code == 302
    assert done.headers["Location"].startswith("/oauth/authorize?")
    assert client.get(done.headers["Location"]).status_code == 200


def test_force_login_signs_out_the_current_account_first(app, alice):
    registered = register_app(alice)
    response = alice.get("/oauth/authorize", query_string=authorize_query(registered, force_login="true"))
    assert response.headers["Location"].startswith("/auth/login")
    assert alice.get("/edit_profile").status_code == 302


def test_the_consent_page_names_the_app_and_its_scopes_in_words(alice):
    registered = register_app(alice, scopes="read profile")
    query = authorize_query(registered, scope="read:statuses profile")
    page = alice.get("/oauth/authorize", query_string=query)
    html = page.get_data(as_text=True)
    assert "Test App" in html and "https://app.example" in html
    assert "Read your posts" in html and "Read only your profile" in html
    assert 'name="authorize"' in html and 'name="deny"' in html
    # The answer redirects to the app: CSP's form-action must let the browser follow it.
    assert "form-action 'self' https://app.example" in page.headers["Content-Security-Policy"]


def test_lang_picks_the_consent_pages_language(alice):
    registered = register_app(alice)
    page = alice.get("/oauth/authorize", query_string=authorize_query(registered, lang="fr"))
    assert page.status_code == 200
    assert '<html lang="fr"' in page.get_data(as_text=True)


@pytest.mark.parametrize("change", [
    {"client_id": "unknown"},
    {"client_id": ""},
    {"redirect_uri": "https://evil.example/callback"},
    {"redirect_uri": ""},
])
def test_a_bad_client_or_redirect_uri_gets_an_error_page_never_a_redirect(alice, change):
    registered = register_app(alice)
    query = {**authorize_query(registered), **change}
    response = alice.get("/oauth/authorize", query_string=query)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "Authorization failed" in response.get_data(as_text=True)


@pytest.mark.parametrize(("change", "error"), [
    ({"scope": "read admin:write"}, "invalid_scope"),
    ({"scope": "nonsense"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
])
def test_other_errors_go_back_to_the_registered_redirect_uri(alice, change, error):
    registered = register_app(alice, scopes="read write")
    query = {**authorize_query(registered, scope="read", state="xyz"), **change}
    response = alice.get("/oauth/authorize", query_string=query)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(CALLBACK + "?")
    assert query_of(response)["error"] == [error]
    assert query_of(response)["state"] == ["xyz"]


def test_scopes_must_be_a_subset_of_the_apps(alice):
    registered = register_app(alice, scopes="read")
    response = alice.get("/oauth/authorize", query_string=authorize_query(registered, scope="read write"))
    assert query_of(response)["error"] == ["invalid_scope"]
    # A granular scope under one the app registered is within it.
    assert alice.get("/oauth/authorize",
                     query_string=authorize_query(registered, scope="read:statuses")).status_code == 200


# -- POST /oauth/authorize: Authorize and Deny -----------------------------------------------------
def test_authorize_redirects_with_a_code_and_the_state_and_audits(app, alice):
    registered = register_app(alice)
    response = consent(alice, registered, state="abc")
    assert response.status_code == 302
    query = query_of(response)
    assert query["state"] == ["abc"] and len(query["code"][0]) >= 40
    with app.app_context():
        stored = db.session.scalar(sa.select(OAuthAuthorizationCode))
        assert stored.code_digest != query["code"][0]
        assert timedelta(minutes=9) < stored.expires_at - utcnow() <= timedelta(minutes=10)
        entry = db.session.scalar(sa.select(AuditLogEntry).where(AuditLogEntry.action == audit.APP_AUTHORIZE))
        assert entry is not None and entry.details == "Test App"


def test_an_app_redirect_uri_keeps_its_own_query(alice):
    uri = "https://app.example/cb?tab=1"
    registered = register_app(alice, redirect_uris=uri)
    response = consent(alice, registered, redirect_uri=uri)
    assert query_of(response)["tab"] == ["1"] and "code" in query_of(response)


def test_deny_redirects_with_access_denied(app, alice):
    registered = register_app(alice)
    response = consent(alice, registered, button="deny", state="st")
    assert query_of(response)["error"] == ["access_denied"]
    assert query_of(response)["state"] == ["st"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAuthorizationCode)) == 0


def test_oob_shows_the_code_on_a_page(alice):
    registered = register_app(alice, redirect_uris=OOB)
    response = consent(alice, registered, redirect_uri=OOB)
    assert response.status_code == 200
    code = code_from(response)
    assert exchange(alice, registered, code, redirect_uri=OOB).status_code == 200


def test_the_consent_form_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    page = client.get("/auth/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": token})
    registered = register_app(client)
    form = {**authorize_query(registered), "authorize": "Authorize"}
    response = client.post("/oauth/authorize", data=form)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthAuthorizationCode)) == 0
    # With the page's token it goes through.
    assert consent(client, registered).status_code == 302


def test_a_tampered_consent_form_is_checked_again(alice):
    registered = register_app(alice, scopes="read")
    form = {**authorize_query(registered, scope="read write"), "authorize": "x"}
    response = alice.post("/oauth/authorize", data=form)
    assert query_of(response)["error"] == ["invalid_scope"]
    form = {**authorize_query(registered, scope="read"), "redirect_uri": "https://evil.example/",
            "authorize": "x"}
    response = alice.post("/oauth/authorize", data=form)
    assert response.status_code == 400 and "Location" not in response.headers


def test_odd_query_parameters_do_not_break_the_way_back_from_sign_in(app, client):
    with app.app_context():
        make_user("alice")
    registered = register_app(client)
    query = {**authorize_query(registered), "_scheme": "https", "_external": "1", "force_login": "1"}
    response = client.get("/oauth/authorize", query_string=query)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")


def test_the_oob_code_page_is_not_stored(alice):
    registered = register_app(alice, redirect_uris=OOB)
    assert consent(alice, registered, redirect_uri=OOB).headers["Cache-Control"] == "no-store"
