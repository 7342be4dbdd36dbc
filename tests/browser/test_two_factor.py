"""Two-factor sign-in in headless Chromium: turn TOTP on with a code worked out from the key the page
shows, sign out, sign in with a code; then lose the phone and sign in with a recovery code."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from microblog import totp
from tests.browser.helpers import seed_user, sign_in, sign_out
from tests.factories import DEFAULT_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

# The live server runs in this process: its clock stands still mid-step, so each code the test works
# out is for a step of its choosing (a step boundary passing mid-test would otherwise flake).
FROZEN = 1_800_000_015.0


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(totp, "time", SimpleNamespace(time=lambda: FROZEN))


def app_code(secret: str, steps: int = 0) -> str:
    """What an authenticator app with ``secret`` shows ``steps`` steps from now."""
    return totp.code_at(secret, FROZEN + steps * totp.STEP_SECONDS)


def password_step(page, username: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    expect(page).to_have_url("/auth/two_factor/verify")


def test_turn_on_totp_sign_in_with_a_code_then_with_a_recovery_code(page, live_app):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    seed_user(live_app, "alice")
    sign_in(page, "alice")

    page.goto("/edit_profile")
    page.get_by_role("link", name="Set up or manage two-factor authentication").click()
    expect(page.get_by_text("Two-factor authentication is off.")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Set up two-factor authentication").click()

    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    qr_code = page.locator("svg.qr-code")
    expect(qr_code).to_be_visible()
    assert qr_code.bounding_box()["width"] >= 150  # drawn, at a size a phone's camera reads
    secret = page.locator("#totp-secret").inner_text().strip()
    assert len(totp.secret_bytes(secret)) == 20
    page.get_by_label("Code from the app").fill("000000" if app_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = [text.strip() for text in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("Two-factor authentication is on.", exact=True)).to_be_visible()
    expect(page.get_by_text("10 recovery codes are left.")).to_be_visible()
    assert secret not in page.content()  # never shown again
    sign_out(page)

    # Sign in: the password, then a code from the app.
    password_step(page, "alice")
    page.get_by_label("Code", exact=True).fill(app_code(secret, 1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Hi, alice!")).to_be_visible()
    sign_out(page)

    # The phone is lost: a recovery code instead, once.
    password_step(page, "alice")
    page.get_by_label("Code", exact=True).fill("123456")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Hi, alice!")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("You used a recovery code: 9 are left.")
    sign_out(page)

    password_step(page, "alice")
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not valid.")).to_be_visible()
    assert violations == []


def test_remember_this_device_skips_the_code_next_time(page, live_app):
    seed_user(live_app, "bob")
    sign_in(page, "bob")
    page.goto("/auth/two_factor")
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Set up two-factor authentication").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    sign_out(page)

    password_step(page, "bob")
    page.get_by_label("Code", exact=True).fill(app_code(secret, 1))
    page.get_by_label("Remember this device for 30 days").check()
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Hi, bob!")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "two_factor_device")
    assert cookie["httpOnly"] and cookie["path"] == "/auth/"
    sign_out(page)
    sign_in(page, "bob")  # no code asked on this browser
