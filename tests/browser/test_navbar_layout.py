"""The navbar in a real browser: one line in every script at desktop width."""

from __future__ import annotations

import pytest

from tests.factories import DEFAULT_PASSWORD, make_user

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}


def sign_in_by_ids(page: Page, username: str) -> None:
    """Sign in through the form, found by ids rather than by labels (the page may be in any language)."""
    page.goto("/auth/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    expect(page.locator("#notification-bell")).to_have_count(1)


def navbar_height(new_context, username: str) -> float:
    page = new_context(viewport=DESKTOP, locale="en-US").new_page()
    sign_in_by_ids(page, username)
    page.goto("/explore")
    return page.locator("nav.navbar").bounding_box()["height"]


@pytest.mark.parametrize("lang", ["ja", "zh_CN"])
def test_the_navbar_keeps_one_line_in_japanese_and_chinese(new_context, live_app, lang):
    with live_app.app_context():
        make_user("alice", locale="en")
        make_user("kenji", locale=lang)
    english = navbar_height(new_context, "alice")
    translated = navbar_height(new_context, "kenji")
    assert translated == english, f"the navbar is {translated}px tall in {lang}, {english}px in English"
