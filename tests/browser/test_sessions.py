"""The sessions page in headless Chromium: one browser signs the other out, whose next page is signed out."""

from __future__ import annotations

import pytest

from tests.browser.helpers import seed_user, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def test_sign_out_another_browser_from_the_sessions_page(new_context, live_app):
    seed_user(live_app, "alice")
    phone = new_context(user_agent=PHONE_AGENT).new_page()
    sign_in(phone, "alice")
    laptop = new_context().new_page()
    sign_in(laptop, "alice")

    laptop.goto("/edit_profile")
    laptop.get_by_role("link", name="See your sessions and API tokens, and sign them out").click()
    expect(laptop.get_by_role("heading", name="Where you're signed in")).to_be_visible()
    expect(laptop.locator("#this-device")).to_be_visible()
    laptop.get_by_role("button", name="Sign out Safari on iPhone").click()
    expect(laptop.get_by_role("alert")).to_contain_text("That session has been signed out.")
    expect(laptop.get_by_text("Safari on iPhone")).to_have_count(0)

    phone.goto("/")
    navbar = phone.get_by_role("navigation", name="Main")
    expect(navbar.get_by_role("link", name="Sign in", include_hidden=True)).to_have_count(1)
    laptop.goto("/")  # and the laptop is still signed in
    expect(laptop.get_by_role("heading", name="Hi, alice!")).to_be_visible()
