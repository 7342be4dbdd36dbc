"""Every language in a real browser: the page is translated, Arabic mirrors, and a screenshot is kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.i18n import LANGUAGE_NAMES
from microblog.models import User
from tests.browser.helpers import keep, seed_user, sign_in
from tests.factories import make_post, make_user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", list(LANGUAGE_NAMES))
def test_home_page_in_each_language(new_context, live_app, tmp_path, lang):
    with live_app.app_context():
        make_post(make_user("bob"), "Hello from the demo")
    tag = lang.replace("_", "-")
    page = new_context(locale=tag).new_page()
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == tag
    assert page.get_by_role("link", name=LANGUAGE_NAMES[lang]).count() == 0  # names are options, not links
    assert page.locator("#language-switcher").input_value() == lang
    shot = tmp_path / f"home-{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep(shot)


def test_arabic_layout_mirrors(new_context, live_app, tmp_path):
    page = new_context(locale="ar", viewport={"width": 1200, "height": 800}).new_page()
    page.goto("/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    brand = page.locator(".navbar-brand").bounding_box()
    assert brand["x"] > 600, "the brand should sit on the right in a right-to-left page"
    shot = tmp_path / "home-ar-rtl.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)


def test_language_switcher_changes_the_page(new_context):
    page = new_context(locale="en-US").new_page()
    page.goto("/explore")
    page.locator("#language-switcher").select_option("de")
    with page.expect_navigation():
        page.get_by_role("button", name="Change").click()
    assert page.locator("html").get_attribute("lang") == "de"
    page.goto("/auth/login")
    assert page.locator("html").get_attribute("lang") == "de"  # the cookie remembers


def test_arrow_keys_on_the_language_menu_change_nothing_until_the_button(new_context, live_app):
    """Moving through the menu with the keyboard is not a choice: neither the page nor a signed-in
    user's saved language changes until the button is pressed (by the keyboard here)."""
    seed_user(live_app, "carol")

    def saved_language():
        with live_app.app_context():
            return db.session.scalar(sa.select(User.locale).where(User.username == "carol"))

    page = new_context(locale="en-US").new_page()
    sign_in(page, "carol")
    page.goto("/explore")
    switcher = page.locator("#language-switcher")
    assert switcher.input_value() == "en"
    switcher.focus()
    switcher.press("ArrowDown")
    assert switcher.input_value() != "en"  # the key moved the selection...
    page.wait_for_timeout(1000)  # ...and a submit on "change" would have navigated by now
    assert page.url.endswith("/explore")
    assert page.locator("html").get_attribute("lang") == "en"
    assert saved_language() is None
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"

    switcher.select_option("fr")
    page.get_by_role("button", name="Change").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/explore")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("#language-switcher").input_value() == "fr"
    assert saved_language() == "fr"


def test_browser_time_zone_is_used(new_context, live_app):
    from datetime import UTC, datetime

    with live_app.app_context():
        make_post(make_user("bob"), "noon in London", datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    page = new_context(locale="en-US", timezone_id="Asia/Tokyo").new_page()
    page.goto("/explore")  # the first visit reports the zone in a cookie
    page.goto("/explore")
    title = page.locator("time").first.get_attribute("title")
    assert "9:00:00" in title and "Japan" in title
