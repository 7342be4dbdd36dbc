"""A conversation in headless Chromium: a refused reply keeps the history; the two sides differ in place,
colour and words; the profile's activity calendar on a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Message, Post, User
from microblog.timeutil import utcnow
from tests.browser.helpers import keep, seed_user, sign_in
from tests.factories import make_message

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


@pytest.fixture
def talk(live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    with live_app.app_context():
        make_message(user("bob"), user("alice"), "Are you coming tonight?")
        make_message(user("alice"), user("bob"), "Yes, at eight.")


def messages(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message))


def test_an_empty_reply_keeps_the_conversation(page, live_app, talk):
    sign_in(page, "alice")
    page.goto("/messages/bob")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/messages/bob#reply$"))
    expect(page.get_by_role("heading", name="Conversation with bob")).to_be_visible()
    expect(page.get_by_text("Are you coming tonight?")).to_be_visible()
    expect(page.get_by_text("Yes, at eight.")).to_be_visible()
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#message-error")).not_to_be_empty()
    assert messages(live_app) == 2
    # Then a real reply goes through, and shows as yours.
    box.fill("See you there!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Your message to bob has been sent.")
    expect(page.locator(".message-mine").filter(has_text="See you there!")).to_contain_text("You")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, PHONE], ids=["desktop", "phone"])
def test_your_messages_and_theirs_differ_in_place_colour_and_words(new_context, live_app, talk, viewport,
                                                                   tmp_path):
    page = new_context(viewport=viewport).new_page()
    sign_in(page, "alice")
    page.goto("/messages/bob")
    mine = page.get_by_role("article").filter(has_text="Yes, at eight.")
    theirs = page.get_by_role("article").filter(has_text="Are you coming tonight?")
    expect(mine).to_contain_text("You")
    expect(theirs.get_by_role("link", name="bob")).to_be_visible()
    mine_box, theirs_box = mine.bounding_box(), theirs.bounding_box()
    # Yours at the end side (the right in English), theirs at the start; neither across the whole width.
    assert mine_box["x"] > theirs_box["x"] + 20
    assert mine_box["x"] + mine_box["width"] > theirs_box["x"] + theirs_box["width"] + 20

    def background(locator) -> str:
        return locator.evaluate("element => getComputedStyle(element).backgroundColor")

    assert background(mine) != background(theirs)
    shot = tmp_path / f"thread-{viewport['width']}.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)


# --- the profile's activity calendar -------------------------------------------------------------------

@pytest.fixture
def poster(live_app):
    """alice, who posted on a few days over the last year."""
    seed_user(live_app, "alice")
    with live_app.app_context():
        alice = user("alice")
        for days in (0, 1, 1, 30, 90, 200, 300):
            when = utcnow() - timedelta(days=days)
            db.session.add(Post(body=f"{days} days ago", author=alice, timestamp=when))
        db.session.commit()


def scroll_state(page) -> dict:
    """The calendar's scrolling box: its widths, and how far the chart's end edge (the newest week, on
    the right in English) is past the box's visible right edge (0: in view)."""
    return page.locator(".chart-scroll").evaluate(
        """box => ({scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
                    hidden: box.firstElementChild.getBoundingClientRect().right
                            - box.getBoundingClientRect().right})""")


def test_the_calendar_on_a_phone_is_legible_and_shows_the_newest_weeks(new_context, live_server, poster,
                                                                       tmp_path):
    page = new_context(viewport=PHONE).new_page()
    page.goto("/user/alice")
    figure = page.locator("figure[data-chart-drawn=true]")
    expect(figure).to_have_count(1)
    expect(figure.locator("img.chart-fallback")).to_be_visible()
    expect(figure.locator("canvas")).to_be_hidden()
    state = scroll_state(page)
    # Wider than the phone, so the squares stay big enough to see: it scrolls sideways instead.
    assert state["scrollWidth"] >= 600 > state["clientWidth"]
    # ... starting at the newest weeks (the end).
    assert state["hidden"] <= 2
    expect(figure.locator("[data-chart-summary]")).to_contain_text("alice wrote 7 posts in the last year")
    # As tall as the squares need (the SVG's proportions at 40rem), no gap under them.
    box = figure.locator(".chart-box").bounding_box()
    assert 80 < box["height"] < 110
    shot = tmp_path / "calendar-390.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)


@pytest.mark.parametrize("how", ["no-javascript", "script-blocked"])
def test_the_calendar_is_never_a_blank_gap(new_context, live_server, poster, how, tmp_path):
    context = new_context(viewport=PHONE, java_script_enabled=how != "no-javascript")
    page = context.new_page()
    blocked: list[str] = []
    if how == "script-blocked":
        page.route(re.compile(r"/charts(\.[0-9a-f]{8})?\.js$"),
                   lambda route: (blocked.append(route.request.url), route.abort()))
    page.goto("/user/alice")
    assert bool(blocked) == (how == "script-blocked")  # the script (by its hashed name) was held back
    picture = page.get_by_role("img", name="Posts per day over the last year")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    box = picture.bounding_box()
    assert box["height"] > 80 and box["width"] >= 600
    state = scroll_state(page)
    assert state["hidden"] <= 2  # the newest weeks in view
    shot = tmp_path / f"calendar-{how}.png"
    page.screenshot(path=str(shot), full_page=True)
    keep(shot)


@pytest.mark.parametrize("javascript", [True, False], ids=["drawn", "no-javascript"])
def test_the_calendar_in_arabic_starts_at_the_newest_weeks_on_the_left(new_context, live_server, poster,
                                                                      javascript, tmp_path):
    page = new_context(locale="ar", viewport=PHONE, java_script_enabled=javascript).new_page()
    page.goto("/user/alice")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    if javascript:
        expect(page.locator("figure[data-chart-drawn=true]")).to_have_count(1)
    state = page.locator(".chart-scroll").evaluate(
        """box => ({scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
                    hidden: box.getBoundingClientRect().left
                            - box.firstElementChild.getBoundingClientRect().left})""")
    assert state["scrollWidth"] > state["clientWidth"]
    assert state["hidden"] <= 2  # right to left, the newest week is on the left, and in view
    shot = tmp_path / f"calendar-ar-{'drawn' if javascript else 'picture'}.png"
    page.screenshot(path=str(shot))
    keep(shot)
