"""Changing the account's address: the service (tokens single-use and expiring, replacing, a taken
address), the pages (CSRF, password, two-factor code, rate limit), both mails over real SMTP, undo
within and after 7 days."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from microblog import totp
from microblog.exceptions import ValidationError
from microblog.extensions import db, limiter
from microblog.models import AuditLogEntry, EmailChange, OutboxMessage, User
from microblog.services import audit, email_change
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_user

LINK = re.compile(r"http://microblog\.test(/settings/email/(?:confirm|undo)/[A-Za-z0-9_-]+)")


def last_link(app, recipient: str) -> str:
    """The path of the link in the newest message queued to ``recipient``."""
    with app.app_context():
        body = db.session.scalar(sa.select(OutboxMessage.text_body)
                                 .where(OutboxMessage.recipient == recipient)
                                 .order_by(OutboxMessage.id.desc()).limit(1))
    found = LINK.search(body or "")
    assert found, body
    return found.group(1)


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def alice_email(app) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.email).where(User.username == "alice"))


def shift_clock(monkeypatch, delta: timedelta) -> None:
    """Move the service's clock ``delta`` ahead of now."""
    later = utcnow() + delta
    monkeypatch.setattr(email_change, "utcnow", lambda: later)


@pytest.fixture
def alice(app, auth):
    with app.app_context():
        make_user("alice", email="alice@example.com", confirmed_at=utcnow())
    auth.login()
    return app


def ask(client, email: str = "new@example.org", password: str = DEFAULT_PASSWORD, **extra):
    return client.post("/settings/email", data={"email": email, "password": password, **extra})


# -- the service ------------------------------------------------------------------------------------
def test_a_request_changes_nothing_until_the_link_and_the_link_works_once(alice, client):
    assert ask(client).status_code == 302
    assert alice_email(alice) == "alice@example.com"
    path = last_link(alice, "new@example.org")
    with alice.app_context():
        row = db.session.scalar(sa.select(EmailChange))
        assert row.confirm_hash != token_of(path) and len(row.confirm_hash) == 64  # a digest, not the token
    assert client.get(path).status_code == 200
    assert alice_email(alice) == "alice@example.com"  # a GET changes nothing
    assert client.post(path).status_code == 302
    assert alice_email(alice) == "new@example.org"
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    with alice.app_context(), pytest.raises(ValidationError):
        email_change.confirm_change(token_of(path))


def test_the_confirmation_link_expires_after_24_hours(alice, client, monkeypatch):
    ask(client)
    path = last_link(alice, "new@example.org")
    shift_clock(monkeypatch, timedelta(hours=24, seconds=1))
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert alice_email(alice) == "alice@example.com"


def test_a_later_request_replaces_the_pending_one(alice, client):
    ask(client, "first@example.org")
    first = last_link(alice, "first@example.org")
    ask(client, "second@example.org")
    second = last_link(alice, "second@example.org")
    assert client.post(first).status_code == 400
    with alice.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailChange)) == 1
    assert client.post(second).status_code == 302
    assert alice_email(alice) == "second@example.org"


def test_cancel_forgets_the_pending_change(alice, client):
    ask(client)
    path = last_link(alice, "new@example.org")
    assert "new@example.org" in client.get("/settings/email").get_data(as_text=True)
    assert client.post("/settings/email/cancel").status_code == 302
    assert "Waiting for confirmation" not in client.get("/settings/email").get_data(as_text=True)
    assert client.post(path).status_code == 400


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_notice(alice, client):
    with alice.app_context():
        make_user("bob", email="bob@example.org")
    free = ask(client, "free@example.org")
    free_page = client.get("/settings/email").get_data(as_text=True)
    taken = ask(client, "BOB@example.org")
    taken_page = client.get("/settings/email").get_data(as_text=True)
    assert (free.status_code, free.headers["Location"]) == (taken.status_code, taken.headers["Location"])
    assert "Waiting for confirmation: bob@example.org" in taken_page
    def same(page: str, address: str) -> str:
        # What the clock changes from one second to the next: the link's expiry, the CSRF tokens' stamps.
        page = re.sub(r"works until [^<]*", "", page.replace(address, "X"))
        return re.sub(r'name="csrf_token" value="[^"]*"', "", page)

    free_lines, taken_lines = same(free_page, "free@example.org"), same(taken_page, "bob@example.org")
    assert free_lines == taken_lines, "\n".join(difflib.unified_diff(free_lines.splitlines(),
                                                                     taken_lines.splitlines(), lineterm=""))
    with alice.app_context():
        notice = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == "bob@example.org"))
        assert notice.subject == "Someone tried to use your address"
        assert "/settings/email/confirm/" not in notice.text_body  # no link can take bob's address
        assert "Hello bob," in notice.text_body
    assert alice_email(alice) == "alice@example.com"


def test_an_address_taken_after_the_request_is_refused_at_confirmation(alice, client):
    ask(client)
    path = last_link(alice, "new@example.org")
    with alice.app_context():
        make_user("carol", email="new@example.org")
    response = client.post(path, follow_redirects=True)
    assert "belongs to another account" in response.get_data(as_text=True)
    assert alice_email(alice) == "alice@example.com"


@pytest.mark.parametrize("typed, message", [
    ("not-an-address", "Invalid email address."),
    ("alice@example.com", "This is already your address."),
    ("a" * 300 + "@example.org", "Field cannot be longer than 254 characters."),
])
def test_bad_addresses_are_refused(alice, client, typed, message):
    response = ask(client, typed)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with alice.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailChange)) == 0


# -- the pages --------------------------------------------------------------------------------------
def test_the_page_shows_the_address_and_whether_it_is_confirmed(alice, client):
    page = client.get("/settings/email").get_data(as_text=True)
    assert "Your address is alice@example.com." in page and "Confirmed" in page
    assert 'name="otp"' not in page  # two-factor sign-in is off
    assert "/settings/email" in client.get("/edit_profile").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert "/auth/login" in client.get("/settings/email").headers["Location"]


def test_a_wrong_password_changes_nothing_and_is_logged(alice, client, caplog):
    response = ask(client, password="wrong-password")
    assert response.status_code == 200
    assert "Your password is not correct." in response.get_data(as_text=True)
    assert "email.change_refused" in caplog.text
    with alice.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailChange)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_with_two_factor_on_a_code_is_needed(alice, client, monkeypatch):
    frozen = 1_800_000_015.0
    monkeypatch.setattr(totp, "time", SimpleNamespace(time=lambda: frozen))
    with alice.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        user.totp_secret, user.totp_enabled_at = totp.new_secret(), utcnow()
        db.session.commit()
        secret = user.totp_secret
    assert 'name="otp"' in client.get("/settings/email").get_data(as_text=True)
    assert "This field is required." in ask(client).get_data(as_text=True)
    good = totp.code_at(secret, frozen)
    wrong = "000000" if good != "000000" else "111111"
    assert "That code is not valid." in ask(client, otp=wrong).get_data(as_text=True)
    with alice.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailChange)) == 0
    assert ask(client, otp=good).status_code == 302
    assert "That code is not valid." in ask(client, otp=good).get_data(as_text=True)  # spent


def test_the_forms_refuse_a_missing_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice", email="alice@example.com")
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": token})
    for path in ("/settings/email", "/settings/email/cancel"):
        response = client.post(path, data={"email": "new@example.org", "password": DEFAULT_PASSWORD})
        assert response.status_code == 400, path
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailChange)) == 0


def test_requests_are_rate_limited_per_account(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_EMAIL_CHANGE="2 per hour")
    with app.app_context():
        limiter.reset()
        make_user("alice", email="alice@example.com")
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    statuses = [ask(client, f"n{i}@example.org").status_code for i in range(3)]
    assert statuses == [302, 302, 429]
    assert client.get("/settings/email").status_code == 200  # reading the page is not limited


# -- mail to both addresses, over SMTP --------------------------------------------------------------
def test_both_addresses_are_mailed_and_the_change_is_audited(mail_app, smtp_server):
    client = mail_app.test_client()
    with mail_app.app_context():
        make_user("alice", email="alice@example.com")
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert ask(client, "nina@example.org").status_code == 302
    assert [m["To"] for m in smtp_server.inbox] == ["nina@example.org"]
    confirm = smtp_server.inbox[0]
    assert confirm["Subject"] == "Confirm your new email address"
    text = confirm.get_body(preferencelist=("plain",)).get_content()
    html = confirm.get_body(preferencelist=("html",)).get_content()
    path = LINK.search(text).group(1)
    assert f"http://microblog.test{path}" in html and "within 24 hours" in text

    assert client.post(path).status_code == 302
    assert [m["To"] for m in smtp_server.inbox] == ["nina@example.org", "alice@example.com"]
    notice = smtp_server.inbox[1]
    assert notice["Subject"] == "Your email address was changed"
    text = notice.get_body(preferencelist=("plain",)).get_content()
    assert "changed to n***@example.org" in text and "nina@" not in text
    assert "/settings/email/undo/" in text and "for 7 days" in text
    with mail_app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "nina@example.org" and user.confirmed_at is not None
        actions = list(db.session.scalars(sa.select(AuditLogEntry.action).order_by(AuditLogEntry.id)))
        assert actions == [audit.EMAIL_CHANGE_REQUESTED, audit.EMAIL_CHANGED]


# -- undo ---------------------------------------------------------------------------------------------
def changed(app, client) -> str:
    """Change alice's address to new@example.org; the path of the undo link mailed to the old one."""
    ask(client)
    assert client.post(last_link(app, "new@example.org")).status_code == 302
    return last_link(app, "alice@example.com")


def test_undo_restores_the_address_ends_every_session_and_works_once(alice, client, app, auth):
    undo = changed(app, client)
    other = app.test_client()
    other.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    with app.app_context():
        version = db.session.scalar(sa.select(User.session_version))
    assert client.get(undo).status_code == 200
    assert alice_email(app) == "new@example.org"  # a GET changes nothing
    response = client.post(undo)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/reset_password_request"
    assert alice_email(app) == "alice@example.com"
    with app.app_context():
        assert db.session.scalar(sa.select(User.session_version)) == version + 1
        assert db.session.scalar(sa.select(AuditLogEntry.action).order_by(AuditLogEntry.id.desc()).limit(1)) \
            == audit.EMAIL_CHANGE_UNDONE
    assert other.get("/edit_profile").status_code == 302  # signed out elsewhere too
    assert client.get("/edit_profile").status_code == 302
    assert client.post(undo).status_code == 400  # once


def test_undo_is_refused_after_7_days(alice, client, app, monkeypatch):
    undo = changed(app, client)
    shift_clock(monkeypatch, timedelta(days=6, hours=23))
    assert client.get(undo).status_code == 200
    shift_clock(monkeypatch, timedelta(days=7, seconds=1))
    assert client.get(undo).status_code == 400
    assert client.post(undo).status_code == 400
    assert alice_email(app) == "new@example.org"


def test_undo_restores_the_old_address_after_a_second_change_and_voids_its_undo(alice, client, app):
    undo = changed(app, client)
    ask(client, "third@example.org")
    client.post(last_link(app, "third@example.org"))
    assert alice_email(app) == "third@example.org"
    second_undo = last_link(app, "new@example.org")  # mailed to the address the account had moved to
    assert client.post(undo).status_code == 302
    assert alice_email(app) == "alice@example.com"
    assert client.post(second_undo).status_code == 400  # the intruder's undo link cannot take it back
    assert alice_email(app) == "alice@example.com"


def test_forged_tokens_are_refused(client, app):
    for token in ("nope", "x" * 500, "%00"):
        assert client.get(f"/settings/email/confirm/{token}").status_code == 400
        assert client.post(f"/settings/email/undo/{token}").status_code == 400


def test_masking():
    assert email_change.masked("nina@example.org") == "n***@example.org"
