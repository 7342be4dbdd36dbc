"""Deleting one's account in headless Chromium, and changing one's mind: from the settings' danger
zone, with the password; signed out, the profile gone; signing in again within the grace period
cancels the deletion and brings the profile back."""

from __future__ import annotations

import pytest

from tests.browser.helpers import Watch, seed_user, sign_in
from tests.factories import DEFAULT_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser


def test_delete_the_account_then_sign_in_within_the_grace_period_to_cancel(page, live_app):
    watch = Watch(page)
    seed_user(live_app, "alice", posts=1)
    sign_in(page, "alice")

    page.goto("/edit_profile")
    zone = page.get_by_role("region", name="Danger zone")
    zone.get_by_role("link", name="Delete your account").click()
    expect(page.get_by_role("heading", name="Deactivate or delete your account")).to_be_visible()
    delete_form = page.locator("form[action='/settings/delete']")
    delete_form.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    delete_form.get_by_role("button", name="Delete my account").click()

    expect(page.get_by_role("alert")).to_contain_text("Your account will be deleted on")
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()  # signed out
    assert page.goto("/user/alice").status == 404

    sign_in(page, "alice")
    expect(page.get_by_role("alert")).to_contain_text("Your account will not be deleted")
    assert page.goto("/user/alice").status == 200
    # The one 404 asked for above shows in the console; nothing else may.
    assert [error for error in watch.errors if "404" not in error] == []
