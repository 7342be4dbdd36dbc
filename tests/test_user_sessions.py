"""Signed-in sessions: a row per browser, the sessions page, signing one or all others out, the
new-browser email, and /api/sessions. Logout and password changes are in tests/security/test_sessions.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog import user_agents
from microblog.exceptions import NotFound
from microblog.extensions import db
from microblog.models import AuditLogEntry, OutboxMessage, Token, User, UserSession
from microblog.services import audit, user_sessions
from microblog.sessions import DEVICE_COOKIE
from tests.factories import DEFAULT_PASSWORD, find_user, make_user, token_for
from tests.statements import counting

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
NEW_SIGN_IN = "New sign-in to your account"


def sign_in(app, username: str = "alice", remember: bool = False, user_agent: str = FIREFOX, client=None):
    client = client or app.test_client()
    data = {"username": username, "password": DEFAULT_PASSWORD}
    if remember:
        data["remember_me"] = "y"
    response = client.post("/auth/login", data=data, headers={"User-Agent": user_agent})
    assert response.status_code == 302
    return client


def signed_in(client) -> bool:
    return client.get("/edit_profile").status_code == 200


def rows(app, username: str = "alice") -> list[UserSession]:
    with app.app_context():
        user = find_user(username)
        return list(db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                                       .order_by(UserSession.id)))


def new_sign_in_mails(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.subject == NEW_SIGN_IN)))


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("alice", email="alice@example.com")
        make_user("bob")


# -- the label ------------------------------------------------------------------------------------
@pytest.mark.parametrize("agent, label", [
    (FIREFOX, "Firefox on Linux"),
    (SAFARI_IPHONE, "Safari on iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 Edg/120.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
     "Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
     "Safari/605.1.15", "Safari on macOS"),
    ("curl/8.5.0", "curl"),
    ("", "Unknown browser"),
    ("\x00" * 5000, "Unknown browser"),
])
def test_a_user_agent_gets_a_short_label(agent, label):
    assert user_agents.describe(agent) == label


# -- rows -----------------------------------------------------------------------------------------
def test_a_sign_in_makes_a_row_that_keeps_only_digests(app, alice):
    client = sign_in(app, remember=True)
    [row] = rows(app)
    with client.session_transaction() as session:
        user_id, version, key = session["_user_id"].split(":")
    assert key and row.key_hash == user_sessions.digest(key) and key not in row.key_hash
    device = client.get_cookie(DEVICE_COOKIE)
    assert device.http_only and device.value not in (row.device_hash or "")
    assert row.device_hash == user_sessions.digest(device.value)
    assert (row.label, row.ip_address, row.remembered, row.revoked_at) == ("Firefox on Linux", "127.0.0.1",
                                                                           True, None)
    assert key in client.get_cookie("remember_token").value


def test_a_revoked_session_cookie_and_its_remember_me_cookie_no_longer_sign_in(app, alice):
    phone = sign_in(app, remember=True, user_agent=SAFARI_IPHONE)
    session_cookie, remember = phone.get_cookie("session").value, phone.get_cookie("remember_token").value
    laptop = sign_in(app)
    phone_row = rows(app)[0]
    assert laptop.post(f"/settings/sessions/{phone_row.id}/revoke").status_code == 302
    assert not signed_in(phone)
    for name, value in (("session", session_cookie), ("remember_token", remember)):
        copy = app.test_client()
        copy.set_cookie(name, value)
        assert not signed_in(copy), name
    assert signed_in(laptop)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLogEntry)
                                  .where(AuditLogEntry.action == audit.SESSION_REVOKED))
        assert "Safari on iPhone" in entry.details


def test_another_users_or_an_ended_session_is_not_found(app, alice):
    laptop = sign_in(app)
    bob = sign_in(app, "bob")
    bobs = rows(app, "bob")[0]
    assert laptop.post(f"/settings/sessions/{bobs.id}/revoke").status_code == 404
    assert laptop.post("/settings/sessions/999999/revoke").status_code == 404
    assert signed_in(bob)
    with app.app_context():
        with pytest.raises(NotFound):
            user_sessions.revoke_session(find_user("alice"), bobs.id)


def test_sign_out_all_other_sessions_keeps_this_one(app, alice):
    others = [sign_in(app, remember=True), sign_in(app, user_agent=SAFARI_IPHONE)]
    this = sign_in(app, remember=True)
    response = this.post("/settings/sessions/others/revoke", follow_redirects=True)
    assert "All your other sessions have been signed out." in response.get_data(as_text=True)
    assert signed_in(this) and not any(signed_in(other) for other in others)
    live = [row for row in rows(app) if row.revoked_at is None]
    assert len(live) == 1
    with this.session_transaction() as session:
        assert user_sessions.digest(session["_user_id"].split(":")[2]) == live[0].key_hash
    copy = app.test_client()
    copy.set_cookie("remember_token", this.get_cookie("remember_token").value)
    assert signed_in(copy)  # this browser's remember-me cookie was renewed with the new version
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLogEntry)
                                 .where(AuditLogEntry.action == audit.SESSIONS_OTHERS_ENDED)) == 1


def test_logout_revokes_this_row_only(app, alice):
    laptop, phone = sign_in(app), sign_in(app, user_agent=SAFARI_IPHONE)
    laptop.post("/auth/logout")
    revoked = [row.revoked_at is not None for row in rows(app)]
    assert revoked == [True, False] and signed_in(phone)


def test_the_page_lists_sessions_and_marks_this_device(app, alice):
    sign_in(app, user_agent=SAFARI_IPHONE)
    laptop = sign_in(app)
    assert 'href="/settings/sessions"' in laptop.get("/edit_profile").get_data(as_text=True)
    response = laptop.get("/settings/sessions")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    phone_row, laptop_row = rows(app)
    assert "Safari on iPhone" in html and "Firefox on Linux" in html and "127.0.0.1" in html
    this = html[html.index(f'id="session-{laptop_row.id}"'):]
    assert "This device" in this[:this.index("</li>")]
    assert f"/settings/sessions/{phone_row.id}/revoke" in html
    assert f"/settings/sessions/{laptop_row.id}/revoke" not in html  # logout ends this one
    assert app.test_client().get("/settings/sessions").status_code == 302  # visitors sign in first


def test_the_page_lists_api_tokens_and_revokes_them(app, alice):
    browser = sign_in(app)
    headers = token_for(app.test_client(), "alice")
    bobs = token_for(app.test_client(), "bob")
    with app.app_context():
        mine = db.session.scalar(sa.select(Token).join(User).where(User.username == "alice"))
        theirs = db.session.scalar(sa.select(Token).join(User).where(User.username == "bob"))
    html = browser.get("/settings/sessions").get_data(as_text=True)
    assert f"/settings/sessions/tokens/{mine.id}/revoke" in html
    assert f"/settings/sessions/tokens/{theirs.id}/revoke" not in html
    assert browser.post(f"/settings/sessions/tokens/{theirs.id}/revoke").status_code == 404
    assert app.test_client().get("/api/sessions", headers=bobs).status_code == 200
    assert browser.post(f"/settings/sessions/tokens/{mine.id}/revoke").status_code == 302
    assert app.test_client().get("/api/sessions", headers=headers).status_code == 401


def test_the_page_buttons_need_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")

    def sign_in_with_token():
        browser = app.test_client()
        page = browser.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = {"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": token}
        assert browser.post("/auth/login", data=data).status_code == 302
        return browser

    other, browser = sign_in_with_token(), sign_in_with_token()
    phone_row = rows(app)[0]
    for path in (f"/settings/sessions/{phone_row.id}/revoke", "/settings/sessions/others/revoke"):
        assert browser.post(path).status_code == 400
    assert signed_in(other)


# -- the statement budget -------------------------------------------------------------------------
def test_checking_the_session_row_costs_no_statement_and_activity_one_update_in_five_minutes(app, alice):
    keyed = sign_in(app)
    legacy = app.test_client()
    with app.app_context():
        user_id = find_user("alice").id
    with legacy.session_transaction() as session:
        session["_user_id"] = f"{user_id}:0"
    for client in (keyed, legacy):
        client.get("/")  # warm up (and the once-a-minute last_seen write)
    with counting(app) as with_row:
        keyed.get("/")
    with counting(app) as without_row:
        legacy.get("/")
    assert len(with_row) == len(without_row)
    assert not any("user_session" in s.split("FROM")[0] and s.lstrip().upper().startswith("UPDATE")
                   for s in with_row)

    row = rows(app)[0]
    with app.app_context():
        db.session.execute(sa.update(UserSession).where(UserSession.id == row.id)
                           .values(last_seen_at=row.last_seen_at - timedelta(minutes=6)))
        db.session.commit()
    with counting(app) as stale:
        keyed.get("/")
    updates = [s for s in stale if s.lstrip().upper().startswith("UPDATE USER_SESSION")]
    assert len(updates) == 1 and len(stale) == len(with_row) + 2  # the UPDATE and its COMMIT
    assert rows(app)[0].last_seen_at > row.last_seen_at
    with counting(app) as again:
        keyed.get("/")
    assert len(again) == len(with_row)


# -- the new-browser email ------------------------------------------------------------------------
def test_a_sign_in_from_a_new_browser_is_mailed_over_smtp(mail_app, smtp_server):
    app = mail_app
    browser = app.test_client()
    response = browser.post("/auth/register", data={
        "username": "alice", "email": "alice@example.com", "password": "a-long-passphrase",
        "password2": "a-long-passphrase"}, headers={"User-Agent": FIREFOX})
    assert response.status_code == 302
    browser.post("/auth/logout")
    assert smtp_server.inbox == []  # signing up and the first sign-in after it: nothing
    data = {"username": "alice", "password": "a-long-passphrase"}
    assert browser.post("/auth/login", data=data, headers={"User-Agent": FIREFOX}).status_code == 302
    assert smtp_server.inbox == []  # the same browser again: nothing

    phone = app.test_client()
    assert phone.post("/auth/login", data=data, headers={"User-Agent": SAFARI_IPHONE}).status_code == 302
    [message] = smtp_server.inbox
    assert message["To"] == "alice@example.com" and message["Subject"] == NEW_SIGN_IN
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "Safari on iPhone" in body and "127.0.0.1" in body
        assert "http://microblog.test/settings/sessions" in body
        assert "http://microblog.test/auth/reset_password_request" in body
    assert "change your password" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLogEntry)
                                 .where(AuditLogEntry.action == audit.NEW_DEVICE_SIGN_IN)) == 1

    phone.post("/auth/logout")
    assert phone.post("/auth/login", data=data, headers={"User-Agent": SAFARI_IPHONE}).status_code == 302
    assert len(smtp_server.inbox) == 1  # that browser is known now


def test_the_first_sign_in_of_an_account_sends_nothing(app, alice):
    sign_in(app)
    assert new_sign_in_mails(app) == []
    sign_in(app, user_agent=SAFARI_IPHONE)
    assert len(new_sign_in_mails(app)) == 1


# -- the API --------------------------------------------------------------------------------------
def test_api_lists_and_revokes_sessions(app, alice):
    phone = sign_in(app, user_agent=SAFARI_IPHONE)
    sign_in(app, "bob")
    headers = token_for(app.test_client(), "alice")
    api = app.test_client()
    listed = api.get("/api/sessions", headers=headers)
    assert listed.status_code == 200
    [item] = listed.json["items"]
    assert item["label"] == "Safari on iPhone" and item["ip_address"] == "127.0.0.1"
    assert set(listed.json) == {"items", "_meta", "_links"}
    bobs = rows(app, "bob")[0]
    response = api.delete(f"/api/sessions/{bobs.id}", headers=headers)
    assert response.status_code == 404 and set(response.json) >= {"error", "message"}
    assert api.delete(f"/api/sessions/{item['id']}", headers=headers).status_code == 204
    assert not signed_in(phone)
    assert api.get("/api/sessions", headers=headers).json["items"] == []
    assert api.delete(f"/api/sessions/{item['id']}", headers=headers).status_code == 404
    assert api.get("/api/sessions").status_code == 401


def test_a_browser_unseen_for_a_year_is_forgotten_at_the_next_sign_in(app, alice):
    old = sign_in(app, user_agent=SAFARI_IPHONE)
    sign_in(app)
    with app.app_context():
        row = db.session.scalar(sa.select(UserSession).where(UserSession.label == "Safari on iPhone"))
        row.last_seen_at -= timedelta(days=400)
        db.session.commit()
    again = app.test_client()  # the same browser, its session long gone: only its device cookie is left
    again.set_cookie(DEVICE_COOKIE, old.get_cookie(DEVICE_COOKIE).value)
    sign_in(app, client=again, user_agent=SAFARI_IPHONE)
    labels = [row.label for row in rows(app)]
    assert labels == ["Firefox on Linux", "Safari on iPhone"]  # the year-old row is gone ...
    assert len(new_sign_in_mails(app)) == 2  # ... so that browser counted as new again
