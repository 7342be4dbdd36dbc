"""The navbar in a real browser: one line in every script at desktop width, the unread count on phones."""

from __future__ import annotations

import pytest

from microblog.extensions import db
from microblog.models import Notification
from tests.factories import DEFAULT_PASSWORD, find_user, make_user

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


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


def test_a_phone_shows_the_unread_count_without_opening_the_menu(new_context, live_app):
    with live_app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        db.session.add(Notification(user_id=alice.id, kind="new_follower", actor_id=bob.id))
        db.session.commit()
    page = new_context(viewport=PHONE, locale="en-US").new_page()
    sign_in_by_ids(page, "alice")
    expect(page.locator("#navbar-menu")).to_be_hidden()  # the menu, and the bell in it, are collapsed
    expect(page.locator("#notification-bell")).to_be_hidden()
    header = page.get_by_role("link", name="Notifications 1 unread")
    expect(header).to_be_visible()
    box = header.bounding_box()
    toggler = page.locator(".navbar-toggler").bounding_box()
    assert box["y"] + box["height"] <= toggler["y"] + toggler["height"]  # in the header row

    # Reading them clears both badges, the header's without a reload (notifications.js marks them read).
    header.click()
    expect(page).to_have_url("/notifications")
    expect(page.locator(".navbar-header-badge")).to_be_hidden()
    with live_app.app_context():
        alice_id = find_user("alice").id
        assert db.session.scalar(db.select(Notification.read_at).where(Notification.user_id == alice_id))


def test_the_header_count_is_only_on_phones(new_context, live_app):
    with live_app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        db.session.add(Notification(user_id=alice.id, kind="new_follower", actor_id=bob.id))
        db.session.commit()
    page = new_context(viewport=DESKTOP, locale="en-US").new_page()
    sign_in_by_ids(page, "alice")
    expect(page.locator("#notification-bell [data-notification-badge]")).to_be_visible()
    expect(page.locator(".navbar-header-badge")).to_be_hidden()
