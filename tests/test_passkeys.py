"""Passkeys through the real routes, checked by py_webauthn itself against a software authenticator:
adding, renaming and removing, signing in without a password and as the second step, the refusals
(bad JSON, wrong challenge, replay, a cloned authenticator, another account's passkey, CSRF), the
notices and the API."""

from __future__ import annotations

import base64
import re

import pytest
import sqlalchemy as sa

from microblog import totp
from microblog.extensions import db
from microblog.models import AuditLogEntry, OutboxMessage, User, WebAuthnCredential
from microblog.services import audit
from microblog.timeutil import utcnow
from tests.authenticator import UP, SoftAuthenticator
from tests.factories import DEFAULT_PASSWORD, make_user


def signed_in(client) -> bool:
    return client.get("/edit_profile").status_code == 200


def add_passkey(client, authenticator: SoftAuthenticator, name: str = "Phone"):
    options = client.post("/settings/passkeys/options")
    assert options.status_code == 200 and options.headers["Cache-Control"] == "no-store"
    credential = authenticator.create(options.json)
    return client.post("/settings/passkeys", json={"name": name, "credential": credential})


def passkey_sign_in(client, authenticator: SoftAuthenticator, url: str = "/auth/passkey", **extra):
    options = client.post("/auth/passkey/options").json
    return client.post(url, json={"credential": authenticator.get(options, **extra)})


def stored(app) -> list[WebAuthnCredential]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebAuthnCredential)))


@pytest.fixture
def alice(app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    return app


@pytest.fixture
def phone(alice, client):
    """alice's passkey, added while signed in; she is signed out after."""
    authenticator = SoftAuthenticator()
    assert add_passkey(client, authenticator).status_code == 200
    client.post("/auth/logout")
    return authenticator


def test_adding_a_passkey_keeps_its_key_audits_and_mails(alice, client):
    authenticator = SoftAuthenticator()
    response = add_passkey(client, authenticator, name="  YubiKey ")
    assert response.status_code == 200 and response.json == {"redirect": "/settings/passkeys"}
    [passkey] = stored(alice)
    assert (passkey.name, passkey.sign_count) == ("YubiKey", 0)
    assert passkey.credential_id == authenticator.credential_id
    assert passkey.transports == "internal"
    with alice.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        # The handle authenticators keep is random, not the numeric id.
        assert authenticator.user_handle == user.webauthn_user_handle and len(user.webauthn_user_handle) == 32
        entry = db.session.scalar(sa.select(AuditLogEntry).order_by(AuditLogEntry.id.desc()))
        assert (entry.action, entry.actor_id, entry.details) == (audit.PASSKEY_ADDED, user.id, "YubiKey")
        notice = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert notice.recipient == "alice@example.com"
        assert notice.subject == "A passkey was added to your account"
    page = client.get("/settings/passkeys").get_data(as_text=True)
    assert "YubiKey" in page and "Not used yet." in page
    assert "/settings/passkeys" in client.get("/edit_profile").get_data(as_text=True)


@pytest.mark.parametrize("body", [
    None, "not json", [], {"name": "Phone"}, {"name": "Phone", "credential": "x"},
    {"name": "Phone", "credential": {"id": 3}},
    {"name": "Phone", "credential": {"id": "AA", "rawId": "AA", "response": {}}},
])
def test_a_broken_registration_is_refused_without_an_error(alice, client, body):
    client.post("/settings/passkeys/options")
    if isinstance(body, str):
        response = client.post("/settings/passkeys", data=body, content_type="application/json")
    else:
        response = client.post("/settings/passkeys", json=body)
    assert response.status_code == 422 and response.json["error"]
    assert stored(alice) == []


def test_registration_needs_its_own_fresh_challenge_once(alice, client):
    authenticator = SoftAuthenticator()
    options = client.post("/settings/passkeys/options").json
    credential = authenticator.create(options)
    client.post("/settings/passkeys/options")  # a newer challenge replaces it
    assert client.post("/settings/passkeys", json={"name": "A", "credential": credential}).status_code == 422
    # Without options first, or a second time with the same answer.
    assert client.post("/settings/passkeys", json={"name": "A", "credential": credential}).status_code == 422
    assert stored(alice) == []
    # No name, or a name too long: refused before anything is checked.
    options = client.post("/settings/passkeys/options").json
    credential = authenticator.create(options)
    answer = client.post("/settings/passkeys", json={"name": "x" * 65, "credential": credential})
    assert answer.status_code == 422 and "at most 64" in answer.json["error"]


def test_the_same_passkey_cannot_be_added_twice(alice, client):
    authenticator = SoftAuthenticator()
    assert add_passkey(client, authenticator).status_code == 200
    assert add_passkey(client, authenticator).status_code == 409
    assert len(stored(alice)) == 1


def test_a_passkey_signs_in_without_a_password(alice, client, phone):
    assert not signed_in(client)
    response = passkey_sign_in(client, phone)
    assert response.status_code == 200 and response.json == {"redirect": "/index"}
    assert signed_in(client)
    [passkey] = stored(alice)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_passkey_sign_in_goes_where_the_user_was_heading_local_paths_only(alice, client, phone):
    options = client.post("/auth/passkey/options").json
    answer = client.post("/auth/passkey?next=/explore", json={"credential": phone.get(options)})
    assert answer.json == {"redirect": "/explore"}
    client.post("/auth/logout")
    options = client.post("/auth/passkey/options").json
    answer = client.post("/auth/passkey?next=https://evil.example/", json={"credential": phone.get(options)})
    assert answer.json == {"redirect": "/index"}


@pytest.mark.parametrize("body", [None, "{", [], {"credential": None}, {"credential": "garbage"},
                                  {"credential": {"id": "AA", "rawId": "AA", "type": "public-key"}}])
def test_a_broken_assertion_is_refused_without_an_error(alice, client, phone, body):
    client.post("/auth/passkey/options")
    if isinstance(body, str):
        response = client.post("/auth/passkey", data=body, content_type="application/json")
    else:
        response = client.post("/auth/passkey", json=body)
    assert response.status_code == 401 and response.json["error"]
    assert not signed_in(client)


def test_an_assertion_over_another_challenge_is_refused(alice, client, phone):
    stale = client.post("/auth/passkey/options").json
    client.post("/auth/passkey/options")
    assert client.post("/auth/passkey", json={"credential": phone.get(stale)}).status_code == 401
    # No challenge at all (never asked for one).
    assert client.post("/auth/passkey", json={"credential": phone.get(stale)}).status_code == 401
    assert not signed_in(client)


def test_an_assertion_is_not_replayed_even_with_the_old_cookie(alice, client, phone):
    options = client.post("/auth/passkey/options").json
    cookie = client.get_cookie("session").value
    # An authenticator that never counts (many synced passkeys keep 0): the counter cannot help.
    credential = phone.get(options, count=False)
    assert client.post("/auth/passkey", json={"credential": credential}).status_code == 200
    client.post("/auth/logout")
    client.set_cookie("session", cookie)  # the session as it was, challenge and all
    assert client.post("/auth/passkey", json={"credential": credential}).status_code == 401
    assert not signed_in(client)


def test_a_counter_going_backwards_is_refused(alice, client, phone):
    phone.sign_count = 5
    assert passkey_sign_in(client, phone, count=False).status_code == 200
    client.post("/auth/logout")
    phone.sign_count = 3  # a clone of the authenticator from earlier
    assert passkey_sign_in(client, phone, count=False).status_code == 401
    assert stored(alice)[0].sign_count == 5


def test_password_less_sign_in_needs_user_verification_and_the_right_user_handle(alice, client, phone):
    assert passkey_sign_in(client, phone, flags=UP).status_code == 401
    assert passkey_sign_in(client, phone, user_handle=b"someone else").status_code == 401
    assert not signed_in(client)


def test_an_unknown_passkey_or_a_forged_signature_is_refused(alice, client, phone):
    assert passkey_sign_in(client, SoftAuthenticator()).status_code == 401
    impostor = SoftAuthenticator()
    impostor.credential_id, impostor.user_handle = phone.credential_id, phone.user_handle
    assert passkey_sign_in(client, impostor).status_code == 401
    assert not signed_in(client)


def test_a_suspended_account_can_still_sign_in_with_a_passkey(alice, client, phone):
    with alice.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        user.suspended_at = utcnow()
        db.session.commit()
    assert passkey_sign_in(client, phone).status_code == 200


# -- renaming and removing ---------------------------------------------------------------------

def test_renaming_and_removing_need_their_owner_and_removing_the_password(alice, client, auth, phone):
    auth.login()
    [passkey] = stored(alice)
    assert client.post(f"/settings/passkeys/{passkey.id}/rename", data={"name": "Laptop"}).status_code == 302
    assert client.post(f"/settings/passkeys/{passkey.id}/rename", data={"name": ""}).status_code == 400
    wrong = client.post(f"/settings/passkeys/{passkey.id}/remove", data={"password": "nope"})
    assert wrong.status_code == 400 and "Your password is not correct." in wrong.get_data(as_text=True)
    assert stored(alice)[0].name == "Laptop"
    # Another account cannot see, rename or remove it.
    client.post("/auth/logout")
    with alice.app_context():
        make_user("bob")
    auth.login("bob")
    assert "Laptop" not in client.get("/settings/passkeys").get_data(as_text=True)
    assert client.post(f"/settings/passkeys/{passkey.id}/rename", data={"name": "Mine"}).status_code == 404
    assert client.post(f"/settings/passkeys/{passkey.id}/remove",
                       data={"password": DEFAULT_PASSWORD}).status_code == 404
    assert client.post("/settings/passkeys/99999/remove",
                       data={"password": DEFAULT_PASSWORD}).status_code == 404
    client.post("/auth/logout")
    auth.login()
    assert client.post(f"/settings/passkeys/{passkey.id}/remove",
                       data={"password": DEFAULT_PASSWORD}).status_code == 302
    assert stored(alice) == []
    with alice.app_context():
        entry = db.session.scalar(sa.select(AuditLogEntry).order_by(AuditLogEntry.id.desc()))
        assert (entry.action, entry.details) == (audit.PASSKEY_REMOVED, "Laptop")
        notice = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert notice.subject == "A passkey was removed from your account" and "Laptop" in notice.text_body
    client.post("/auth/logout")
    assert passkey_sign_in(client, phone).status_code == 401


def test_the_settings_need_a_signed_in_user(client):
    assert client.get("/settings/passkeys").status_code == 302
    assert client.post("/settings/passkeys/options").status_code == 302


# -- the second step ---------------------------------------------------------------------------

def test_a_passkey_is_the_second_step_after_the_password(alice, client, auth, phone):
    auth.login()
    assert client.post("/auth/two_factor/start", data={"password": DEFAULT_PASSWORD}).status_code == 302
    with alice.app_context():
        secret = db.session.scalar(sa.select(User.totp_secret).where(User.username == "alice"))
    code = totp.code_at(secret, totp.time.time())
    assert client.post("/auth/two_factor/setup", data={"code": code}).status_code == 200
    client.post("/auth/logout")
    assert auth.login().headers["Location"] == "/auth/two_factor/verify"
    page = client.get("/auth/two_factor/verify").get_data(as_text=True)
    assert "Use a passkey" in page and "passkeys" in page
    # The password-less challenge does not serve the second step, nor the reverse.
    options = client.post("/auth/passkey/options").json
    assert client.post("/auth/two_factor/passkey", json={"credential": phone.get(options)}).status_code == 401
    options = client.post("/auth/two_factor/passkey/options").json
    assert [c["id"] for c in options["allowCredentials"]] == [
        base64.urlsafe_b64encode(phone.credential_id).rstrip(b"=").decode()]
    answer = client.post("/auth/two_factor/passkey", json={"credential": phone.get(options, flags=UP)})
    assert answer.status_code == 200 and answer.json == {"redirect": "/index"}
    assert signed_in(client)


def test_the_second_step_refuses_another_accounts_passkey(alice, client, auth, phone):
    with alice.app_context():
        make_user("bob")
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        bob.totp_secret, bob.totp_enabled_at = totp.new_secret(), utcnow()
        db.session.commit()
    response = client.post("/auth/login", data={"username": "bob", "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/auth/two_factor/verify"
    assert "Use a passkey" not in client.get("/auth/two_factor/verify").get_data(as_text=True)
    options = client.post("/auth/two_factor/passkey/options").json
    assert options["allowCredentials"] == []
    assert client.post("/auth/two_factor/passkey", json={"credential": phone.get(options)}).status_code == 401
    assert not signed_in(client)


def test_the_second_step_without_a_pending_sign_in_is_refused(client):
    assert client.post("/auth/two_factor/passkey/options").status_code == 400
    assert client.post("/auth/two_factor/passkey", json={}).status_code == 400


# -- CSRF --------------------------------------------------------------------------------------

def test_every_passkey_post_needs_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    for url in ("/auth/passkey/options", "/auth/passkey", "/auth/two_factor/passkey/options",
                "/auth/two_factor/passkey"):
        assert client.post(url, json={}).status_code == 400
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/auth/passkey/options", headers={"X-CSRFToken": token}).status_code == 200
    for url in ("/settings/passkeys/options", "/settings/passkeys", "/settings/passkeys/1/rename",
                "/settings/passkeys/1/remove"):
        assert client.post(url, json={}).status_code == 400


# -- the API -----------------------------------------------------------------------------------

def bearer(client, username: str = "alice") -> dict:
    basic = base64.b64encode(f"{username}:{DEFAULT_PASSWORD}".encode()).decode()
    token = client.post("/api/tokens", headers={"Authorization": f"Basic {basic}"}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def test_api_lists_and_removes_your_passkeys_only(alice, client, phone):
    headers = bearer(client)
    listed = client.get("/api/passkeys", headers=headers)
    assert listed.status_code == 200
    [item] = listed.json["items"]
    assert item["name"] == "Phone" and item["transports"] == ["internal"] and item["last_used_at"] is None
    assert "_meta" in listed.json and "_links" in listed.json
    with alice.app_context():
        make_user("bob")
    bobs = bearer(client, "bob")
    assert client.get("/api/passkeys", headers=bobs).json["items"] == []
    assert client.delete(f"/api/passkeys/{item['id']}", headers=bobs).status_code == 404
    assert client.delete(f"/api/passkeys/{item['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/passkeys/{item['id']}", headers=headers).status_code == 404
    assert client.get("/api/passkeys").status_code == 401
    assert stored(alice) == []


def test_removal_notice_arrives_over_smtp(mail_app, smtp_server):
    client = mail_app.test_client()
    with mail_app.app_context():
        make_user("alice")
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert add_passkey(client, SoftAuthenticator(), name="Key").status_code == 200
    [passkey] = stored(mail_app)
    client.post(f"/settings/passkeys/{passkey.id}/remove", data={"password": DEFAULT_PASSWORD})
    subjects = [message["Subject"] for message in smtp_server.inbox]
    assert subjects == ["A passkey was added to your account", "A passkey was removed from your account"]



def test_the_relying_party_follows_the_request_or_the_settings(make_app):
    app = make_app(WEBAUTHN_RP_ID="example.com", WEBAUTHN_ORIGIN="https://example.com",
                   WEBAUTHN_RP_NAME="Example")
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    options = client.post("/settings/passkeys/options").json
    assert options["rp"] == {"id": "example.com", "name": "Example"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    # An answer from a page on another origin or for another domain is refused.
    for origin, rp_id in (("http://localhost", "localhost"), ("https://example.com", "localhost"),
                          ("https://evil.example", "example.com")):
        options = client.post("/settings/passkeys/options").json
        credential = SoftAuthenticator(origin=origin, rp_id=rp_id).create(options)
        answer = client.post("/settings/passkeys", json={"name": "x", "credential": credential})
        assert answer.status_code == 422
    options = client.post("/settings/passkeys/options").json
    credential = SoftAuthenticator(origin="https://example.com", rp_id="example.com").create(options)
    assert client.post("/settings/passkeys", json={"name": "x", "credential": credential}).status_code == 200
    # Without settings: the host the request came to.
    app.config.update(WEBAUTHN_RP_ID=None, WEBAUTHN_ORIGIN=None)
    anonymous = app.test_client()
    options = anonymous.post("/auth/passkey/options", base_url="http://blog.test:8080").json
    assert options["rpId"] == "blog.test"


GARBAGE = ["", "!!!", 5, None, [], {}, "AAAA", "_" * 3, "A" * 5000]


def mutations(credential: dict) -> list:
    """Ways to mangle a credential: one field at a time replaced by garbage, or cut short."""
    found = []
    for key in [k for k in credential if k != "response"]:
        found += [(key, None, value) for value in GARBAGE]
    for key, original in credential["response"].items():
        values = [*GARBAGE, original[: len(original) // 2]] if isinstance(original, str) else GARBAGE
        found += [("response", key, value) for value in values]
    return found


def mangled(credential: dict, mutation) -> dict:
    key, inner, value = mutation
    if inner is None:
        return {**credential, key: value}
    return {**credential, "response": {**credential["response"], inner: value}}


def test_mangled_answers_are_refused_without_an_error(alice, client, phone):
    """Every field of a real registration and a real assertion, over a fresh challenge, mangled one at a
    time: never a 5xx, and only a harmless field (transports, extensions) leaves the answer good."""
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    harmless = {("clientExtensionResults", None), ("authenticatorAttachment", None),
                ("response", "transports")}
    for mutation in mutations(SoftAuthenticator().create(client.post("/settings/passkeys/options").json)):
        authenticator = SoftAuthenticator()
        credential = authenticator.create(client.post("/settings/passkeys/options").json)
        body = {"name": "x", "credential": mangled(credential, mutation)}
        answer = client.post("/settings/passkeys", json=body)
        assert answer.status_code == (200 if mutation[:2] in harmless and answer.status_code == 200 else 422)
    client.post("/auth/logout")
    for mutation in mutations(phone.get(client.post("/auth/passkey/options").json)):
        credential = phone.get(client.post("/auth/passkey/options").json)
        answer = client.post("/auth/passkey", json={"credential": mangled(credential, mutation)})
        assert answer.status_code == (200 if mutation[:2] in harmless and answer.status_code == 200 else 401)
        if answer.status_code == 200:
            client.post("/auth/logout")
    assert not signed_in(client)
