"""Two-factor sign-in through the real pages: enrolment, the code step, recovery codes, remembered devices,
turning it off, the staff requirement, the notices, and the API."""

from __future__ import annotations

import base64
import re
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from microblog import totp
from microblog.auth.two_factor import DEVICE_COOKIE
from microblog.extensions import db, limiter
from microblog.models import AuditLogEntry, OutboxMessage, RecoveryCode, User
from microblog.services import audit
from tests.factories import DEFAULT_PASSWORD, make_user

INVALID = "That code is not valid."
CODE_RE = re.compile(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>")


# The app's clock stands still in these tests, in the middle of a step: a step boundary passing
# between computing a code and sending it would make any test flaky.
FROZEN = 1_800_000_015.0


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(totp, "time", SimpleNamespace(time=lambda: FROZEN))


def code(secret: str, steps: int = 0) -> str:
    """The app's code ``steps`` steps from now: each use in a test takes a later step (one step either
    side is accepted), so no test waits for the clock to move on."""
    return totp.code_at(secret, FROZEN + steps * totp.STEP_SECONDS)


def other_than(good: str) -> str:
    """A well-formed code that is not ``good``."""
    return "000000" if good != "000000" else "111111"


def account(app, username: str = "alice") -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def enrol(app, client, username: str = "alice") -> tuple[str, list[str]]:
    """Turn two-factor sign-in on for the signed-in ``username``; (secret, recovery codes)."""
    assert client.post("/auth/two_factor/start", data={"password": DEFAULT_PASSWORD}).status_code == 302
    secret = account(app, username).totp_secret
    response = client.post("/auth/two_factor/setup", data={"code": code(secret, -1)})
    assert response.status_code == 200
    codes = CODE_RE.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def signed_in(client) -> bool:
    return client.get("/edit_profile").status_code == 200


def password_step(client, username: str = "alice", **extra):
    return client.post("/auth/login", data={"username": username, "password": DEFAULT_PASSWORD, **extra})


@pytest.fixture
def alice(app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    return app


@pytest.fixture
def enrolled(alice, client, auth):
    """alice with two-factor sign-in on, signed out: (secret, recovery codes)."""
    secret, codes = enrol(alice, client)
    auth.logout()
    return secret, codes


# -- enrolment -------------------------------------------------------------------------------------

def test_enrolment_shows_a_qr_code_the_key_and_the_uri_then_asks_for_a_code(alice, client):
    assert "Two-factor authentication is off." in client.get("/auth/two_factor").get_data(as_text=True)
    assert "/auth/two_factor" in client.get("/edit_profile").get_data(as_text=True)
    refused = client.post("/auth/two_factor/start", data={"password": "wrong-password"})
    assert refused.status_code == 200 and "Your password is not correct." in refused.get_data(as_text=True)
    assert account(alice).totp_secret is None

    assert client.post("/auth/two_factor/start", data={"password": DEFAULT_PASSWORD}).headers["Location"] == (
        "/auth/two_factor/setup")
    secret = account(alice).totp_secret
    assert len(totp.secret_bytes(secret)) == 20  # 160 bits
    page = client.get("/auth/two_factor/setup")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "style" not in svg and "<path" in svg  # drawn here, and allowed by the CSP
    assert secret in html
    assert f"otpauth://totp/Microblog:alice?secret={secret}&amp;issuer=Microblog" in html
    assert not account(alice).two_factor_enabled

    wrong = client.post("/auth/two_factor/setup", data={"code": other_than(code(secret))})
    assert wrong.status_code == 200 and INVALID in wrong.get_data(as_text=True)
    assert not account(alice).two_factor_enabled


def test_confirming_turns_it_on_shows_codes_once_stores_them_hashed_mails_and_audits(alice, client):
    secret, codes = enrol(alice, client)
    user = account(alice)
    assert user.two_factor_enabled and user.totp_last_step is not None
    with alice.app_context():
        hashes = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10 and not set(hashes) & ({c.replace("-", "") for c in codes} | set(codes))
        notice = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert notice.recipient == "alice@example.com"
        assert notice.subject == "Two-factor authentication is on"
        entry = db.session.scalar(sa.select(AuditLogEntry).order_by(AuditLogEntry.id.desc()))
        assert (entry.action, entry.actor_id, entry.target_id) == (audit.TWO_FACTOR_ON, user.id, user.id)
    # The key is never shown again.
    assert client.get("/auth/two_factor/setup").headers["Location"] == "/auth/two_factor"
    settings = client.get("/auth/two_factor").get_data(as_text=True)
    assert secret not in settings and "Two-factor authentication is on." in settings
    assert "10 recovery codes are left." in settings
    assert not any(c in settings for c in codes)


# -- signing in ------------------------------------------------------------------------------------

def test_the_password_alone_does_not_sign_in(alice, client, enrolled):
    secret, _codes = enrolled
    response = password_step(client)
    assert response.headers["Location"] == "/auth/two_factor/verify"
    assert not signed_in(client)
    page = client.get("/auth/two_factor/verify")
    assert "Enter the code your authenticator app shows" in page.get_data(as_text=True)

    wrong = client.post("/auth/two_factor/verify", data={"code": "12345"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and INVALID in html and "alert-danger" not in html
    assert not signed_in(client)

    good = client.post("/auth/two_factor/verify", data={"code": code(secret)})
    assert good.headers["Location"] == "/index"
    assert signed_in(client)


def test_the_code_step_goes_where_the_user_was_heading(alice, client, enrolled):
    secret, _codes = enrolled
    client.post("/auth/login?next=/explore", data={"username": "alice", "password": DEFAULT_PASSWORD})
    response = client.post("/auth/two_factor/verify", data={"code": code(secret)})
    assert response.headers["Location"] == "/explore"


def test_a_code_works_once(alice, client, auth, enrolled):
    secret, _codes = enrolled
    used = code(secret)
    password_step(client)
    client.post("/auth/two_factor/verify", data={"code": used})
    assert signed_in(client)
    auth.logout()
    password_step(client)
    replay = client.post("/auth/two_factor/verify", data={"code": used})
    assert INVALID in replay.get_data(as_text=True) and not signed_in(client)
    client.post("/auth/two_factor/verify", data={"code": code(secret, 1)})
    assert signed_in(client)


def test_a_recovery_code_signs_in_once(alice, client, auth, enrolled):
    _secret, codes = enrolled
    password_step(client)
    response = client.post("/auth/two_factor/verify", data={"code": codes[3].upper().replace("-", " ")},
                           follow_redirects=True)
    assert "You used a recovery code: 9 are left." in response.get_data(as_text=True)
    assert signed_in(client)
    auth.logout()
    password_step(client)
    again = client.post("/auth/two_factor/verify", data={"code": codes[3]})
    assert INVALID in again.get_data(as_text=True) and not signed_in(client)


def test_the_pending_sign_in_expires_and_ends_with_the_sessions(alice, client, enrolled):
    secret, _codes = enrolled
    password_step(client)
    with client.session_transaction() as session:
        session["two_factor_pending"] = {**session["two_factor_pending"], "exp": int(time.time()) - 1}
    expired = client.post("/auth/two_factor/verify", data={"code": code(secret)})
    assert expired.headers["Location"] == "/auth/login" and not signed_in(client)

    password_step(client)
    with alice.app_context():  # signed out everywhere meanwhile (the version goes up)
        db.session.get(User, account(alice).id).session_version += 1
        db.session.commit()
    assert client.post("/auth/two_factor/verify", data={"code": code(secret)}).headers["Location"] == (
        "/auth/login")
    assert not signed_in(client)


def test_the_code_page_without_a_password_step_sends_to_sign_in(client):
    assert client.get("/auth/two_factor/verify").headers["Location"] == "/auth/login"
    response = client.post("/auth/two_factor/verify", data={"code": "123456"})
    assert response.headers["Location"] == "/auth/login"


@pytest.mark.parametrize("typed", ["", " ", "x" * 64, "x" * 5000, "12345６", "١٢٣٤٥٦", "\x00\x01", "%s",
                                   "aaaa-aaaa-aaaa-aaa0", "' OR 1=1 --", "🙂" * 10])
def test_garbage_codes_are_refused_without_an_error(alice, client, enrolled, typed):
    password_step(client)
    response = client.post("/auth/two_factor/verify", data={"code": typed, "remember_device": typed})
    assert response.status_code == 200
    for url in ("/auth/two_factor/setup", "/auth/two_factor/disable"):
        assert client.post(url, data={"code": typed, "password": typed}).status_code < 500
    assert not signed_in(client)


def test_a_broken_pending_state_sends_to_sign_in(client):
    for pending in ("x", {"id": "1"}, {"id": 10**30, "exp": "soon"}, {"id": 1, "exp": 2**70, "v": None}):
        with client.session_transaction() as session:
            session["two_factor_pending"] = pending
        assert client.post("/auth/two_factor/verify", data={"code": "123456"}).status_code == 302


def test_wrong_codes_are_rate_limited_per_account(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="1000 per minute",
                   RATELIMIT_TWO_FACTOR_ACCOUNT="3 per hour")
    client = app.test_client()
    with app.app_context():
        limiter.reset()
        make_user("alice")
    password_step(client)
    secret, _codes = enrol(app, client)
    client.post("/auth/logout")
    password_step(client)
    for _ in range(3):
        assert client.post("/auth/two_factor/verify", data={"code": "000001"}).status_code == 200
    password_step(client)  # signing in again buys no fresh guesses
    assert client.post("/auth/two_factor/verify", data={"code": code(secret)}).status_code == 429
    assert not signed_in(client)


# -- remembered devices ----------------------------------------------------------------------------

def test_a_remembered_device_skips_the_code_until_2fa_or_the_password_changes(alice, client, auth, enrolled):
    secret, codes = enrolled
    password_step(client)
    response = client.post("/auth/two_factor/verify", data={"code": code(secret), "remember_device": "y"})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{DEVICE_COOKIE}=") and "HttpOnly" in cookie and "Path=/auth/" in cookie
    assert "Max-Age=2592000" in cookie and "Secure" not in cookie  # plain http here
    auth.logout()
    assert password_step(client).headers["Location"] == "/index"  # no code asked
    assert signed_in(client)

    # Changing the password forgets every remembered device.
    new = "a-new-long-password"
    client.post("/auth/change_password", data={"current_password": DEFAULT_PASSWORD, "password": new,
                                               "password2": new})
    auth.logout()
    response = client.post("/auth/login", data={"username": "alice", "password": "a-new-long-password"})
    assert response.headers["Location"] == "/auth/two_factor/verify"


def test_turning_2fa_off_forgets_remembered_devices(alice, client, auth, enrolled):
    secret, _codes = enrolled
    password_step(client)
    client.post("/auth/two_factor/verify", data={"code": code(secret), "remember_device": "y"})
    client.post("/auth/two_factor/disable", data={"password": DEFAULT_PASSWORD, "code": code(secret, 1)})
    assert not account(alice).two_factor_enabled
    secret, _codes = enrol(alice, client)  # on again: the old cookie is still in the browser
    auth.logout()
    assert password_step(client).headers["Location"] == "/auth/two_factor/verify"


def test_a_device_cookie_of_another_account_or_forged_does_nothing(alice, client, auth, enrolled):
    secret, _codes = enrolled
    with alice.app_context():
        make_user("bob")
    for value in ("forged", "x" * 4000):
        client.set_cookie(DEVICE_COOKIE, value, path="/auth/")
        assert password_step(client).headers["Location"] == "/auth/two_factor/verify"


# -- turning it off, new recovery codes -------------------------------------------------------------

def test_turning_off_needs_the_password_and_a_code(alice, client, auth):
    secret, codes = enrol(alice, client)
    no_password = client.post("/auth/two_factor/disable", data={"password": "wrong", "code": code(secret)})
    assert "Your password is not correct." in no_password.get_data(as_text=True)
    no_code = client.post("/auth/two_factor/disable", data={"password": DEFAULT_PASSWORD, "code": "999999"})
    assert INVALID in no_code.get_data(as_text=True)
    assert account(alice).two_factor_enabled

    done = client.post("/auth/two_factor/disable", data={"password": DEFAULT_PASSWORD, "code": codes[0]})
    assert done.headers["Location"] == "/auth/two_factor"
    user = account(alice)
    assert not user.two_factor_enabled and user.totp_secret is None
    with alice.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
        notice = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert notice.subject == "Two-factor authentication is off"
        actions = db.session.scalars(sa.select(AuditLogEntry.action).order_by(AuditLogEntry.id)).all()
        assert actions == [audit.TWO_FACTOR_ON, audit.TWO_FACTOR_OFF]
    auth.logout()
    assert password_step(client).headers["Location"] == "/index"


def test_new_recovery_codes_need_the_password_and_replace_the_old(alice, client, auth):
    secret, old = enrol(alice, client)
    refused = client.post("/auth/two_factor/recovery_codes", data={"password": "wrong"})
    assert "Your password is not correct." in refused.get_data(as_text=True)
    response = client.post("/auth/two_factor/recovery_codes", data={"password": DEFAULT_PASSWORD})
    new = CODE_RE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert response.headers["Cache-Control"] == "no-store"
    auth.logout()
    password_step(client)
    assert INVALID in client.post("/auth/two_factor/verify", data={"code": old[0]}).get_data(as_text=True)
    client.post("/auth/two_factor/verify", data={"code": new[0]})
    assert signed_in(client)


# -- staff -----------------------------------------------------------------------------------------

def test_staff_without_2fa_are_sent_to_enrol_when_the_site_requires_it(make_app):
    app = make_app(REQUIRE_2FA_FOR_STAFF=True)
    with app.app_context():
        make_user("mod", role="moderator"), make_user("plain")
    client = app.test_client()
    password_step(client, "mod")
    response = client.get("/explore")
    assert response.headers["Location"] == "/auth/two_factor"
    assert client.get("/admin/").headers["Location"] == "/auth/two_factor"
    page = client.get("/auth/two_factor").get_data(as_text=True)
    assert "Your role requires two-factor authentication" in page
    enrol(app, client, "mod")
    assert client.get("/explore").status_code == 200

    other = app.test_client()
    password_step(other, "plain")
    assert other.get("/explore").status_code == 200
    assert other.post("/auth/logout").status_code == 302


def test_without_the_setting_staff_are_not_asked(app, client):
    with app.app_context():
        make_user("admin", role="admin")
    password_step(client, "admin")
    assert client.get("/explore").status_code == 200


# -- the API ---------------------------------------------------------------------------------------

def basic(username: str = "alice", password: str = DEFAULT_PASSWORD) -> dict:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_api_tokens_of_a_2fa_account_need_a_code_and_the_status_is_readable(alice, client, auth):
    token = client.post("/api/tokens", headers=basic()).get_json()["token"]
    status = client.get("/api/two_factor", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert status == {"enabled": False, "enabled_at": None, "recovery_codes_left": 0, "required": False}

    secret, _codes = enrol(alice, client)
    missing = client.post("/api/tokens", headers=basic())
    assert missing.status_code == 401 and missing.headers["X-OTP"] == "required"
    wrong = client.post("/api/tokens", headers={**basic(), "X-OTP": other_than(code(secret))})
    assert wrong.status_code == 401 and wrong.get_json()["message"] == INVALID
    made = client.post("/api/tokens", headers={**basic(), "X-OTP": code(secret)})
    assert made.status_code == 201
    status = client.get("/api/two_factor", headers={"Authorization": f"Bearer {made.get_json()['token']}"})
    assert status.get_json()["enabled"] is True and status.get_json()["recovery_codes_left"] == 10
    assert client.get("/api/two_factor").status_code == 401


def test_api_refuses_tokens_to_staff_without_2fa_when_required(make_app):
    app = make_app(REQUIRE_2FA_FOR_STAFF=True)
    with app.app_context():
        make_user("admin", role="admin")
    assert app.test_client().post("/api/tokens", headers=basic("admin")).status_code == 403


def test_an_operator_can_turn_it_off_for_someone_locked_out(alice, client, auth, runner):
    enrol(alice, client)
    assert runner.invoke(args=["users", "reset-2fa", "alice"]).exit_code != 0  # a reason is required
    result = runner.invoke(args=["users", "reset-2fa", "alice", "--reason", "ID checked by mail"])
    assert result.exit_code == 0 and "Two-factor authentication is off for alice." in result.output
    assert not account(alice).two_factor_enabled
    with alice.app_context():
        entry = db.session.scalar(sa.select(AuditLogEntry).order_by(AuditLogEntry.id.desc()))
        assert (entry.action, entry.actor_id) == (audit.TWO_FACTOR_OFF, None)
        assert entry.reason == "ID checked by mail"
    again = runner.invoke(args=["users", "reset-2fa", "alice", "--reason", "again"])
    assert again.exit_code != 0 and "does not use two-factor authentication" in again.output
