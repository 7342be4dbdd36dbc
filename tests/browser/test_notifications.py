"""In headless Chromium: the navbar badge updates without a reload, and opening things marks them read."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Message, Notification
from tests.factories import DEFAULT_PASSWORD, make_user

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    Page = expect = None


@pytest.fixture
def live_app(make_app):
    # Poll every second so the test does not wait the default 20 s.
    app = make_app(WTF_CSRF_ENABLED=True, NOTIFICATIONS_POLL_SECONDS=1)
    with app.app_context():
        make_user("alice")
        make_user("bob")
    return app


def sign_in(page: Page, username: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Hi, {username}!")).to_be_visible()


def badge(page: Page):
    return page.locator("#notification-bell [data-notification-badge]")


@pytest.mark.browser
def test_the_badge_changes_when_someone_sends_a_message(new_context, live_app):
    bob = new_context().new_page()
    sign_in(bob, "bob")
    expect(badge(bob)).to_be_hidden()
    bob.evaluate("window.stillTheSamePage = true")

    alice = new_context().new_page()
    sign_in(alice, "alice")
    alice.goto("/user/bob")
    alice.get_by_role("link", name="Send a message").click()
    alice.get_by_label("Message").fill("Lunch at noon? https://example.com/menu")
    alice.get_by_role("button", name="Send").click()
    expect(alice.get_by_role("alert")).to_contain_text("Your message to bob has been sent.")

    # Bob's page was not reloaded: the script asked for the count and showed it.
    expect(badge(bob)).to_be_visible()
    expect(badge(bob).locator("[data-notification-count]")).to_have_text("1")
    assert bob.evaluate("window.stillTheSamePage") is True
    expect(bob.get_by_role("link", name=re.compile(r"^Notifications\s+1\s+unread$"))).to_be_visible()

    # Opening the notifications marks them read, and the badge goes away.
    bob.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(bob.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(badge(bob)).to_be_hidden()
    expect(bob.get_by_role("button", name="Mark all as read")).to_be_hidden()
    with live_app.app_context():
        assert db.session.scalar(sa.select(Notification.read_at)) is not None

    # The conversation shows the message with its link; opening it marks the message read.
    bob.get_by_role("link", name="alice sent you a message.").click()
    expect(bob.get_by_role("heading", name="Conversation with alice")).to_be_visible()
    expect(bob.get_by_role("link", name="https://example.com/menu")).to_have_attribute(
        "rel", "nofollow noopener noreferrer")
    expect(bob.get_by_role("button", name="Mark as read")).to_be_hidden()
    with live_app.app_context():
        message = db.session.scalar(sa.select(Message))
        assert message.read_at is not None


@pytest.mark.browser
def test_a_hidden_tab_polls_less_often(new_context, live_app):
    page = new_context().new_page()
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "count.json" in request.url else None)
    sign_in(page, "bob")
    page.wait_for_timeout(4500)
    visible = len(polls)
    assert visible >= 3, polls

    page.evaluate("""() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    page.wait_for_timeout(200)  # a poll already on its way still counts as visible
    polls.clear()
    page.wait_for_timeout(4500)
    assert len(polls) <= 2, polls  # 2 s, then 4 s apart: backing off

    polls.clear()
    page.evaluate("""() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => false});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    page.wait_for_timeout(500)
    assert len(polls) >= 1  # shown again: asks at once
