"""Changing the email address in headless Chromium: ask on the settings page, open the link from the
mail the SMTP server received, confirm, and see the new address."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.browser.helpers import Watch, seed_user, sign_in
from tests.factories import DEFAULT_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

LINK = re.compile(r"http://microblog\.test(/settings/email/confirm/[A-Za-z0-9_-]+)")


@pytest.fixture
def live_app(make_app, smtp_server) -> Flask:
    """The live server's app, sending its mail to the test's SMTP server."""
    return make_app(WTF_CSRF_ENABLED=True, **smtp_server.settings())


def test_change_the_address_and_confirm_it_from_the_mail(page, live_app, smtp_server):
    watch = Watch(page)
    seed_user(live_app, "alice")
    sign_in(page, "alice")
    page.goto("/edit_profile")
    page.get_by_role("link", name="Change your email address").click()
    expect(page.locator("#current-email")).to_contain_text("alice@example.com")
    page.get_by_label("New email address").fill("alice.new@example.org")
    page.get_by_label("Current password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Send a confirmation link").click()
    expect(page.locator("#pending-email")).to_contain_text("alice.new@example.org")

    mail = next(m for m in smtp_server.inbox if m["To"] == "alice.new@example.org")
    path = LINK.search(mail.get_body(preferencelist=("plain",)).get_content()).group(1)
    page.goto(path)
    page.get_by_role("button", name="Confirm my new address").click()
    expect(page.get_by_role("alert")).to_contain_text("Your email address is now alice.new@example.org.")
    expect(page.locator("#current-email")).to_contain_text("alice.new@example.org")
    expect(page.locator("#pending-email")).to_have_count(0)
    assert watch.errors == []
