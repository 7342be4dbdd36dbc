"""The Mastodon-compatible API's foundation: scope-checked bearer tokens, verify_credentials, the instance
and NodeInfo documents, rate-limit headers, trailing slashes, and Settings > Authorized apps."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Blueprint

from microblog.extensions import db, limiter
from microblog.mastodon.auth import current_mastodon_user, oauth_required
from microblog.models import AuditLogEntry, OAuthAccessToken, Role, User
from microblog.services import audit
from microblog.services import oauth_scopes as scopes
from microblog.timeutil import utcnow
from tests.factories import make_post, make_user, signed_in_client
from tests.mastodon_helpers import bearer, register_app, token_with, user_token

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("alice", about_me="Hello\nthere https://example.com", role=Role.ADMIN.value)
    return signed_in_client(app, "alice")


# -- scopes ----------------------------------------------------------------------------------------
def test_scope_hierarchy():
    assert scopes.allows(["read"], "read:statuses")
    assert scopes.allows(["follow"], "write:follows") and not scopes.allows(["follow"], "write:statuses")
    assert not scopes.allows(["read"], "profile") and scopes.allows(["profile"], "profile")
    assert not scopes.allows(["write"], "read:accounts")
    assert scopes.allows(["admin:read"], "admin:read:reports")
    assert scopes.is_subset(["read:statuses"], ["read"]) and not scopes.is_subset(["write"], ["read"])
    assert scopes.parse("read+write  read") == ["read", "write"]
    assert set(scopes.FOLLOW_SCOPES) == {"read:blocks", "read:follows", "read:mutes", "write:blocks",
                                         "write:follows", "write:mutes"}


def test_every_scope_has_words(app):
    with app.test_request_context():
        described = scopes.describe(list(scopes.ALL_SCOPES))
    assert all(words and words != scope for scope, words in described)


# -- verify_credentials and the decorator ----------------------------------------------------------
def test_verify_credentials_is_the_credential_account(app, alice):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        make_post(user, "first")
        user_id = user.id
    body = alice.get("/api/v1/accounts/verify_credentials/", headers=token_with(alice, "read")).json
    assert body["id"] == str(user_id) and body["username"] == body["acct"] == "alice"
    assert body["display_name"] == "alice" and body["locked"] is False and body["bot"] is False
    assert ISO_MS.match(body["created_at"])
    assert body["note"].startswith("<p>Hello<br />there <a href=\"https://example.com\"")
    assert body["url"] == "http://microblog.test/user/alice"
    for key in ("avatar", "avatar_static", "header", "header_static"):
        assert body[key].startswith("http://microblog.test/"), key
    assert body["statuses_count"] == 1 and body["followers_count"] == 0 and body["following_count"] == 0
    assert re.match(r"^\d{4}-\d\d-\d\d$", body["last_status_at"])
    assert body["emojis"] == [] and body["fields"] == []
    assert body["source"]["note"] == "Hello\nthere https://example.com"
    assert body["source"]["privacy"] == "public" and body["source"]["fields"] == []
    assert body["source"]["follow_requests_count"] == 0
    assert body["role"]["name"] == "Admin" and body["role"]["permissions"] == str(0x10001)


def test_an_account_without_posts_has_no_last_status(app, alice):
    body = alice.get("/api/v1/accounts/verify_credentials", headers=token_with(alice, "profile")).json
    assert body["last_status_at"] is None


@pytest.mark.parametrize("scope", ["read", "read:accounts", "profile", "read write follow push"])
def test_verify_credentials_accepts_read_accounts_or_profile(alice, scope):
    response = alice.get("/api/v1/accounts/verify_credentials", headers=token_with(alice, scope))
    assert response.status_code == 200


@pytest.mark.parametrize("scope", ["write", "follow", "push", "read:statuses"])
def test_a_token_without_the_scope_is_403(alice, scope):
    response = alice.get("/api/v1/accounts/verify_credentials", headers=token_with(alice, scope))
    assert response.status_code == 403
    assert response.json == {"error": "This action is outside the authorized scopes"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"},
                                     {"Authorization": "Bearer " + "x" * 5000}])
def test_no_token_or_a_bad_one_is_401(client, headers):
    response = client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": "The access token is invalid"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_session_cookie_is_not_a_token(alice):
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 401


def test_last_used_at_is_written_at_most_every_few_minutes(app, alice):
    headers = token_with(alice, "read")

    def last_used():
        with app.app_context():
            return db.session.scalar(sa.select(OAuthAccessToken.last_used_at))

    alice.get("/api/v1/accounts/verify_credentials", headers=headers)
    first = last_used()
    assert first is not None
    alice.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert last_used() == first
    with app.app_context():
        db.session.execute(sa.update(OAuthAccessToken).values(last_used_at=utcnow() - timedelta(minutes=6)))
        db.session.commit()
    alice.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert last_used() > first


def test_a_suspended_account_reads_but_writes_nothing(make_app):
    """The decorator's rule for the write endpoints others will build on it."""
    bp = Blueprint("scope_probe", __name__)

    @bp.route("/api/v1/probe", methods=["GET", "POST"])
    @oauth_required("write:statuses")
    def probe():
        return {"user": current_mastodon_user().username}

    app = make_app()
    app.register_blueprint(bp)
    with app.app_context():
        make_user("alice")
    client = signed_in_client(app, "alice")
    headers = token_with(client, "write")
    assert client.post("/api/v1/probe", headers=headers).json == {"user": "alice"}
    assert client.get("/api/v1/probe", headers=token_with(client, "read")).status_code == 403
    with app.app_context():
        db.session.execute(sa.update(User).values(suspended_at=utcnow()))
        db.session.commit()
    refused = client.post("/api/v1/probe", headers=headers)
    assert refused.status_code == 403 and refused.json == {"error": "Your login is currently disabled"}
    assert client.get("/api/v1/probe", headers=headers).status_code == 200


# -- apps/verify_credentials -----------------------------------------------------------------------
def test_apps_verify_credentials_with_a_user_token(alice):
    registered = register_app(alice, scopes="read")
    token = user_token(alice, registered, scope="read")
    body = alice.get("/api/v1/apps/verify_credentials", headers=bearer(token)).json
    assert body["name"] == "Test App" and body["scopes"] == ["read"]
    assert "client_secret" not in body and "client_id" not in body
    assert alice.get("/api/v1/apps/verify_credentials").status_code == 401


# -- instance and NodeInfo -------------------------------------------------------------------------
V1_KEYS = {"uri", "title", "short_description", "description", "email", "version", "urls", "stats",
           "thumbnail", "languages", "registrations", "approval_required", "invites_enabled", "configuration",
           "contact_account", "rules"}
V2_KEYS = {"domain", "title", "version", "source_url", "description", "usage", "thumbnail", "icon",
           "languages", "configuration", "registrations", "api_versions", "contact", "rules"}


def test_instance_v1(app, alice):
    body = alice.get("/api/v1/instance/").json  # Mastodon.py asks with the slash
    assert set(body) == V1_KEYS
    assert body["uri"] == "microblog.test"
    assert re.match(r"^4\.3\.0 \(compatible; microblog \d+\.\d+\)$", body["version"])
    assert body["stats"] == {"user_count": 1, "status_count": 0, "domain_count": 0}
    config = body["configuration"]
    assert config["statuses"]["max_characters"] == app.config["POST_MAX_LENGTH"]
    assert config["statuses"]["max_media_attachments"] == app.config["MEDIA_PER_POST"]
    assert config["media_attachments"]["image_size_limit"] == app.config["MEDIA_MAX_BYTES"]
    assert "image/png" in config["media_attachments"]["supported_mime_types"]
    assert body["contact_account"]["username"] == "alice"
    assert body["rules"] == [] and "en" in body["languages"] and body["registrations"] is True


def test_instance_v2(app, alice):
    body = alice.get("/api/v2/instance").json
    assert set(body) == V2_KEYS
    assert body["api_versions"] == {"mastodon": 2}
    assert body["domain"] == "microblog.test"
    assert body["usage"] == {"users": {"active_month": 1}}
    assert body["registrations"]["enabled"] is True and body["registrations"]["approval_required"] is False
    assert body["contact"]["account"]["username"] == "alice"
    config = body["configuration"]
    assert config["statuses"]["max_characters"] == app.config["POST_MAX_LENGTH"]
    assert config["accounts"]["max_note_length"] == 500
    assert config["polls"]["max_options"] == 0


def test_without_an_admin_the_contact_is_null(client):
    assert client.get("/api/v1/instance").json["contact_account"] is None
    assert client.get("/api/v2/instance").json["contact"]["account"] is None


def test_instance_is_public_but_a_bad_token_is_refused(client):
    assert client.get("/api/v1/instance", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/instance/peers", "/api/v1/instance/rules",
                                  "/api/v1/custom_emojis"])
def test_empty_lists(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.json == []


def test_weekly_activity_counts_real_rows(app, alice):
    with app.app_context():
        make_post(db.session.scalar(sa.select(User)), "hello")
    weeks = alice.get("/api/v1/instance/activity").json
    assert len(weeks) == 12
    assert set(weeks[0]) == {"week", "statuses", "logins", "registrations"}
    assert weeks[0]["statuses"] == "1" and weeks[0]["registrations"] == "1"
    assert all(isinstance(value, str) for week in weeks for value in week.values())


def test_nodeinfo(app, alice):
    links = alice.get("/.well-known/nodeinfo").json["links"]
    assert [link["href"] for link in links] == ["http://microblog.test/nodeinfo/2.0",
                                               "http://microblog.test/nodeinfo/2.1"]
    for version in ("2.0", "2.1"):
        response = alice.get(f"/nodeinfo/{version}")
        body = response.json
        assert body["version"] == version and body["software"]["name"] == "microblog"
        assert body["protocols"] == ["activitypub"] and body["openRegistrations"] is True
        users = {"total": 1, "activeMonth": 1, "activeHalfyear": 1}
        assert body["usage"] == {"users": users, "localPosts": 0}
        assert "nodeinfo.diaspora.software/ns/schema/" + version in response.headers["Content-Type"]
    assert alice.get("/nodeinfo/3.0").status_code == 404


# -- paths, errors, rate limits --------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/api/v1/instance", "/api/v2/instance", "/api/v1/instance/peers", "/api/v1/instance/activity",
    "/api/v1/instance/rules", "/api/v1/custom_emojis", "/.well-known/nodeinfo", "/nodeinfo/2.0",
    "/.well-known/oauth-authorization-server", "/api/v1/accounts/verify_credentials",
    "/api/v1/apps/verify_credentials"])
def test_every_path_answers_with_and_without_a_trailing_slash(client, path):
    plain, slashed = client.get(path), client.get(path + "/")
    assert plain.status_code == slashed.status_code and plain.status_code in (200, 401)
    assert plain.json == slashed.json


def test_errors_have_mastodons_shape(client):
    # Routing errors are the app's (they carry Mastodon's "error" key, and a "message" beside it).
    response = client.delete("/api/v1/instance")
    assert response.status_code == 405 and response.json["error"] == "Method not allowed"


def test_rate_limits_per_token_with_mastodons_headers(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_MASTODON="3 per minute",
                   RATELIMIT_LOGIN="100 per minute")
    with app.app_context():
        limiter.reset()
        make_user("alice")
    client = signed_in_client(app, "alice")
    first = client.get("/api/v1/instance")
    assert first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first.headers["X-RateLimit-Reset"])
    headers = token_with(client, "read")  # a token's calls count on their own allowance
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).headers[
        "X-RateLimit-Remaining"] == "2"
    client.get("/api/v1/instance")
    client.get("/api/v1/instance")
    refused = client.get("/api/v1/instance")
    assert refused.status_code == 429 and refused.json == {"error": "Too many requests"}
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    # A made-up token counts against the address, not an allowance of its own.
    assert client.get("/api/v1/instance", headers={"Authorization": "Bearer made-up"}).status_code == 429


# -- Settings > Authorized apps --------------------------------------------------------------------
def test_authorized_apps_lists_and_revokes(app, alice):
    registered = register_app(alice, scopes="read write")
    token = user_token(alice, registered, scope="read write")
    alice.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    page = alice.get("/settings/apps").get_data(as_text=True)
    assert "Test App" in page and "Read all your account" in page and "last used" in page
    action = re.search(r'action="(/settings/apps/\d+/revoke)"', page).group(1)
    response = alice.post(action)
    assert response.status_code == 302 and response.headers["Location"] == "/settings/apps"
    assert alice.get("/api/v1/accounts/verify_credentials", headers=bearer(token)).status_code == 401
    assert "Test App" not in alice.get("/settings/apps/").get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLogEntry).where(AuditLogEntry.action == audit.APP_REVOKE))
        assert entry is not None


def test_revoking_touches_only_your_own_tokens(app, alice):
    with app.app_context():
        make_user("bob")
    bob = signed_in_client(app, "bob")
    registered = register_app(alice, scopes="read")
    alice_token = user_token(alice, registered, scope="read")
    bob_token = user_token(bob, registered, scope="read")
    with app.app_context():
        app_id = db.session.scalar(sa.select(OAuthAccessToken.application_id))
    bob.post(f"/settings/apps/{app_id}/revoke")
    assert alice.get("/api/v1/accounts/verify_credentials", headers=bearer(alice_token)).status_code == 200
    assert bob.get("/api/v1/accounts/verify_credentials", headers=bearer(bob_token)).status_code == 401


def test_authorized_apps_needs_sign_in_and_csrf(make_app, client):
    assert client.get("/settings/apps").status_code == 302
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    signed = app.test_client()
    page = signed.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed.post("/auth/login", data={"username": "alice", "password": "correct-horse", "csrf_token": token})
    assert signed.post("/settings/apps/1/revoke").status_code == 400


def test_the_profile_settings_link_to_authorized_apps(alice):
    assert 'href="/settings/apps"' in alice.get("/edit_profile").get_data(as_text=True)
