"""Timelines in headless Chromium (static/timeline.js, static/shortcuts.js): relative times that keep
up, Load more above the Older link, the new posts banner on home, and the keyboard shortcuts."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from microblog import i18n, search
from microblog.extensions import db
from microblog.models import Bookmark, Post, User
from microblog.templating import timeago
from microblog.timeutil import utcnow
from tests.browser.helpers import Watch, sign_in_ready
from tests.factories import make_follow, make_post, make_posts, make_user

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = pytest.mark.browser

PER_PAGE = 3


@pytest.fixture
def live_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True, POSTS_PER_PAGE=PER_PAGE, NOTIFICATIONS_POLL_SECONDS=1)


def seed(app, posts: int = 7) -> None:
    """alice follows bob, who wrote ``posts`` posts a minute apart ("bob says 0" the oldest)."""
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_follow(alice, bob)
        make_posts(bob, posts)


def bodies(page: Page) -> list[str]:
    return page.locator("main article.post .post-body").all_inner_texts()


def test_relative_times_speak_the_servers_words_and_keep_up(page, live_app):
    with live_app.app_context():
        bob = make_user("bob")
        make_post(bob, "five minutes old", timestamp=utcnow() - timedelta(minutes=5))
    page.clock.install(time=utcnow())
    page.goto("/explore")
    page.wait_for_load_state()
    time = page.locator("article.post time").first
    expect(time).to_have_text("5 minutes ago")
    # The same words as the server for every unit (English), both ways.
    now = utcnow()
    with live_app.test_request_context():
        for seconds in [1, 44, 60, 53 * 60, 3 * 3600, 86_400, 6 * 86_400, 8 * 86_400, 40 * 86_400,
                        400 * 86_400, 3000 * 86_400]:
            delta = timedelta(seconds=seconds)
            for moment in (now - delta, now + delta):
                said = page.evaluate("([iso, now]) => window.microblogRelativeText(iso, now)",
                                     [moment.isoformat(), now.timestamp() * 1000])
                assert said == timeago_at(moment, now), (delta, moment > now)
    # Two hours later, with the page still open.
    page.clock.fast_forward("02:00:00")
    expect(time).to_have_text("2 hours ago")


def timeago_at(moment, now):
    """The server's text for ``moment`` seen at ``now`` (timeago reads the clock itself)."""
    with mock.patch("microblog.templating.utcnow", return_value=now):
        return timeago(moment)


def test_load_more_appends_the_next_page_and_keeps_the_older_link(page, live_app):
    seed(live_app, posts=7)
    watch = Watch(page)
    page.goto("/explore")
    page.wait_for_load_state()
    assert bodies(page) == ["bob says 6", "bob says 5", "bob says 4"]
    more = page.get_by_role("button", name="Load more")
    older = page.get_by_role("link", name=re.compile("Older"))
    expect(older).to_have_count(1)
    more.click()
    expect(page.locator("main article.post")).to_have_count(6)
    assert bodies(page) == [f"bob says {i}" for i in range(6, 0, -1)]
    # The first new card has the focus, for keyboard and screen reader users.
    expect(page.locator("main article.post").nth(3)).to_be_focused()
    # The Older link is still a real link, now past the last card shown; the address has not changed.
    expect(older).to_have_attribute("href", re.compile(r"before="))
    assert page.url.endswith("/explore")
    more.click()
    expect(page.locator("main article.post")).to_have_count(7)
    expect(more).to_have_count(0)  # the end
    expect(page.get_by_role("link", name=re.compile("Older"))).to_have_count(0)
    ids = page.locator("main article.post").evaluate_all("cards => cards.map(c => c.id)")
    assert len(set(ids)) == 7
    assert watch.errors == []


@pytest.mark.parametrize("path", ["/", "/user/bob", "/bookmarks"])
def test_load_more_on_other_timelines(page, live_app, path):
    seed(live_app, posts=5)
    if path == "/bookmarks":
        with live_app.app_context():
            alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
            for post_id in db.session.scalars(sa.select(Post.id)):
                db.session.add(Bookmark(user_id=alice.id, post_id=post_id))
            db.session.commit()
    sign_in_ready(page, "alice")
    page.goto(path)
    page.wait_for_load_state()
    expect(page.locator("main article.post")).to_have_count(3)
    page.get_by_role("button", name="Load more").click()
    expect(page.locator("main article.post")).to_have_count(5)


def test_the_new_posts_banner_shows_and_loads_them(page, live_app):
    seed(live_app, posts=2)
    watch = Watch(page)
    sign_in_ready(page, "alice")
    banner = page.locator(".new-posts-banner")
    expect(banner).to_be_hidden()
    with live_app.app_context():
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        make_post(bob, "fresh one")
        make_post(bob, "fresh two")
    expect(banner).to_be_visible(timeout=8_000)
    expect(banner).to_have_text("Show new posts (2)")
    page.evaluate("window.stillTheSamePage = true")
    banner.click()
    expect(page.locator("#timeline article.post")).to_have_count(4)
    assert bodies(page)[:2] == ["fresh two", "fresh one"]
    expect(page.locator("#timeline article.post").first).to_be_focused()
    expect(banner).to_be_hidden()
    assert page.evaluate("window.stillTheSamePage") is True
    assert watch.errors == []


def test_the_banner_does_not_count_ones_own_post_and_pauses_while_hidden(page, live_app):
    seed(live_app, posts=1)
    sign_in_ready(page, "alice")
    asked: list[str] = []
    page.on("request", lambda r: "/timeline/newer.json" in r.url and asked.append(r.url))
    page.get_by_label("Say something").fill("my own")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Your post is now live!")
    page.wait_for_timeout(2_500)
    expect(page.locator(".new-posts-banner")).to_be_hidden()
    assert asked  # it did ask
    # The tab is hidden: no more questions until it is shown again.
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(300)
    before = len(asked)
    page.wait_for_timeout(2_500)
    assert len(asked) == before
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_timeout(1_500)
    assert len(asked) > before


def test_keyboard_shortcuts(page, live_app):
    seed(live_app, posts=3)
    watch = Watch(page)
    sign_in_ready(page, "alice")
    page.locator("body").click(position={"x": 1, "y": 1})  # the composer had the focus (autofocus)
    cards = page.locator("#timeline article.post")
    page.keyboard.press("j")
    expect(cards.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(cards.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(cards.nth(0)).to_be_focused()
    page.keyboard.press("Control+j")  # not with a modifier key
    expect(cards.nth(0)).to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("#navbar-search")).to_be_focused()
    page.keyboard.type("jk")  # typing in a field is typing
    expect(page.locator("#navbar-search")).to_have_value("jk")
    page.locator("#navbar-search").press("Escape")
    page.locator("#navbar-search").blur()
    page.keyboard.press("n")
    expect(page.get_by_label("Say something")).to_be_focused()
    expect(page.get_by_label("Say something")).to_have_value("")
    page.get_by_label("Say something").blur()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Next post")
    page.keyboard.press("j")  # not while the dialog is open
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    assert watch.errors == []


def test_n_elsewhere_goes_to_the_composer(page, live_app):
    seed(live_app, posts=1)
    sign_in_ready(page, "alice")
    page.goto("/explore")
    page.wait_for_load_state()
    page.keyboard.press("n")
    expect(page.get_by_label("Say something")).to_be_focused()


def test_load_more_on_search_results(page, live_app):
    seed(live_app, posts=5)
    with live_app.app_context():
        search.reindex()
    page.goto("/search?q=says&sort=new")
    page.wait_for_load_state()
    expect(page.locator("main article.post")).to_have_count(3)
    page.get_by_role("button", name="Load more").click()
    expect(page.locator("main article.post")).to_have_count(5)
    expect(page.locator("main article.post").nth(3)).to_be_focused()


@pytest.mark.parametrize("language", ["ar", "ja", "de", "pt_BR", "zh_CN"])
def test_relative_times_in_the_pages_language(new_context, live_app, live_server, language):
    with live_app.app_context():
        make_post(make_user("bob"), "old enough", timestamp=utcnow() - timedelta(days=3))
    context = new_context()
    context.add_cookies([{"name": i18n.LOCALE_COOKIE, "value": language, "url": live_server}])
    page = context.new_page()
    page.goto("/explore")
    page.wait_for_load_state()
    now = utcnow()
    with live_app.test_request_context(), force_locale(language):
        for seconds in [5, 120, 3 * 3600, 3 * 86_400, 14 * 86_400, 90 * 86_400, 800 * 86_400]:
            moment = now - timedelta(seconds=seconds)
            said = page.evaluate("([iso, now]) => window.microblogRelativeText(iso, now)",
                                 [moment.isoformat(), now.timestamp() * 1000])
            assert said == timeago_at(moment, now), (language, seconds)
