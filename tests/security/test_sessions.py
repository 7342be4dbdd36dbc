"""Sessions the server can end: logout ends this browser's session (copies of its cookies included);
password change and reset invalidate every cookie of the account (session and remember-me) and every
API token. The sessions page and its API are tested in tests/test_user_sessions.py."""

from __future__ import annotations

import base64

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import OutboxMessage, Token, User
from microblog.signed_tokens import reset_token
from tests.factories import DEFAULT_PASSWORD, make_user

NEW_PASSWORD = "a-brand-new-passphrase"


def sign_in(app, username: str = "alice", password: str = DEFAULT_PASSWORD, remember: bool = False):
    client = app.test_client()
    data = {"username": username, "password": password}
    if remember:
        data["remember_me"] = "y"
    assert client.post("/auth/login", data=data).status_code == 302
    return client


def signed_in(client) -> bool:
    """The settings page answers only a signed-in visitor (others are sent to the login page)."""
    return client.get("/edit_profile").status_code == 200


def with_cookie(app, name: str, value: str):
    """A fresh browser that carries only a copy of one cookie."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def api_token(client, username: str = "alice", password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    response = client.post("/api/tokens", headers={"Authorization": f"Basic {raw}"})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json['token']}"}


def alice(app) -> User:
    return db.session.scalar(sa.select(User).where(User.username == "alice"))


def test_a_copied_session_cookie_stops_working_after_logout(app):
    with app.app_context():
        make_user("alice")
    browser = sign_in(app)
    stolen = browser.get_cookie("session").value
    assert signed_in(with_cookie(app, "session", stolen))  # the copy works while the session lives
    browser.post("/auth/logout")
    assert not signed_in(browser)
    assert not signed_in(with_cookie(app, "session", stolen))
    sign_in(app)  # and the account can sign in again


def test_a_copied_remember_cookie_stops_working_after_logout(app):
    with app.app_context():
        make_user("alice")
    browser = sign_in(app, remember=True)
    remembered = browser.get_cookie("remember_token")
    assert remembered is not None and remembered.http_only
    assert signed_in(with_cookie(app, "remember_token", remembered.value))
    browser.post("/auth/logout")
    replay = with_cookie(app, "remember_token", remembered.value)
    assert not signed_in(replay)
    assert replay.get_cookie("remember_token") is None  # the dead cookie is deleted, not kept


def test_logout_signs_out_only_this_browser(app):
    """Logout used to move the account's session version on, signing out every device: the only way to
    end one session when the version was all the server knew. With a row per session, logout ends this
    browser's session and the others stay (the sessions page signs them out)."""
    with app.app_context():
        make_user("alice")
    laptop, phone = sign_in(app), sign_in(app, remember=True)
    laptop.post("/auth/logout")
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_the_notification_poll_refuses_an_ended_session(app):
    with app.app_context():
        make_user("alice")
    browser = sign_in(app)
    stolen = browser.get_cookie("session").value
    assert browser.get("/notifications/count.json").status_code == 200
    browser.post("/auth/logout")
    copy = with_cookie(app, "session", stolen)
    assert copy.get("/notifications/count.json", headers={"Accept": "application/json"}).status_code == 401


def test_a_session_from_before_versions_is_version_zero(app):
    with app.app_context():
        user_id = make_user("alice").id
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = str(user_id)  # the cookie format before session versions
    assert signed_in(browser)
    # Logout in another browser ends only that one now; signing out all other sessions moves the version on.
    other = sign_in(app)
    other.post("/auth/logout")
    assert signed_in(browser)
    other = sign_in(app)
    assert other.post("/settings/sessions/others/revoke").status_code == 302
    assert not signed_in(browser)
    assert signed_in(other)


def test_a_session_from_before_session_keys_still_signs_in_and_its_logout_ends_every_session(app):
    """"<id>:<version>" cookies (before session rows) are legacy sessions: accepted while the version is
    current. Having no row, signing out of one can only move the version on, ending all sessions."""
    with app.app_context():
        user_id = make_user("alice").id
    legacy = app.test_client()
    with legacy.session_transaction() as session:
        session["_user_id"] = f"{user_id}:0"
    stolen = legacy.get_cookie("session").value
    assert signed_in(legacy)
    other = sign_in(app)
    legacy.post("/auth/logout")
    assert not signed_in(legacy) and not signed_in(with_cookie(app, "session", stolen))
    assert not signed_in(other)


def test_change_password_page_is_linked_from_the_settings(app):
    with app.app_context():
        make_user("alice")
    browser = sign_in(app)
    assert 'href="/auth/change_password"' in browser.get("/edit_profile").get_data(as_text=True)
    assert app.test_client().get("/auth/change_password").status_code == 302  # visitors sign in first


def test_change_password_needs_the_current_one_and_the_rules(app):
    with app.app_context():
        make_user("alice")
    browser = sign_in(app)
    cases = [
        ({"current_password": "wrong-password", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
         "Your current password is not correct."),
        ({"current_password": DEFAULT_PASSWORD, "password": "short", "password2": "short"},
         "Passwords are 8 to 128 characters long."),
        ({"current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD, "password2": "something-else"},
         "The passwords do not match."),
        ({"current_password": DEFAULT_PASSWORD, "password": "password1", "password2": "password1"},
         "one of the most common"),
    ]
    for data, message in cases:
        response = browser.post("/auth/change_password", data=data)
        assert response.status_code == 200 and message in response.get_data(as_text=True), message
    with app.app_context():
        assert alice(app).check_password(DEFAULT_PASSWORD) and alice(app).session_version == 0


def test_change_password_ends_other_sessions_and_tokens_and_keeps_this_one(app):
    with app.app_context():
        make_user("alice", email="alice@example.com")
    browser, other = sign_in(app, remember=True), sign_in(app)
    old_remember = browser.get_cookie("remember_token").value
    headers = api_token(app.test_client())
    assert app.test_client().get("/api/timeline", headers=headers).status_code == 200

    response = browser.post("/auth/change_password", data={
        "current_password": DEFAULT_PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/edit_profile"

    assert signed_in(browser)  # this browser stays signed in ...
    new_remember = browser.get_cookie("remember_token").value
    assert new_remember != old_remember and signed_in(with_cookie(app, "remember_token", new_remember))
    assert not signed_in(other)  # ... every other one is signed out
    assert not signed_in(with_cookie(app, "remember_token", old_remember))
    assert app.test_client().get("/api/timeline", headers=headers).status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Token)) == 0
        # (signing in from the second test browser mailed a "new sign-in" notice first)
        notice = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert notice.recipient == "alice@example.com"
        assert notice.subject == "Your password was changed"
        assert "/auth/reset_password_request" in notice.text_body
        assert NEW_PASSWORD not in notice.text_body and NEW_PASSWORD not in notice.html_body
    assert sign_in(app, password=NEW_PASSWORD)


def test_password_reset_ends_every_session_and_token(app):
    with app.app_context():
        make_user("alice")
    browser = sign_in(app, remember=True)
    remembered = browser.get_cookie("remember_token").value
    headers = api_token(app.test_client())
    with app.app_context():
        link = f"/auth/reset_password/{reset_token(alice(app))}"
    response = app.test_client().post(link, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not signed_in(browser)
    assert not signed_in(with_cookie(app, "remember_token", remembered))
    assert app.test_client().get("/api/timeline", headers=headers).status_code == 401
    assert sign_in(app, password=NEW_PASSWORD)


def test_api_tokens_are_stored_hashed_and_expire(app):
    from datetime import timedelta

    with app.app_context():
        make_user("alice")
    headers = api_token(app.test_client())
    plain = headers["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        token = db.session.scalar(sa.select(Token))
        assert plain not in token.token_hash and len(token.token_hash) == 64
        lifetime = timedelta(hours=app.config["API_TOKEN_HOURS"], seconds=5)
        assert token.expires_at - token.created_at <= lifetime
