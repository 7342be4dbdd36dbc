"""In headless Chromium: following from a followers list and from the suggestions page, in place with
JavaScript (no reload, the button turns over, a status message) and by plain form posts without it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import followers
from tests.browser.helpers import sign_in
from tests.factories import find_user, make_follow, make_post, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None


@pytest.fixture
def live_app(make_app):
    """alice follows bob; bob and carol follow dan; erin posted today (an active account)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        alice, bob, carol, dan, erin = (make_user(n) for n in ("alice", "bob", "carol", "dan", "erin"))
        make_follow(alice, bob)
        make_follow(bob, dan)
        make_follow(carol, dan)
        make_post(erin)
    return app


def follows(app, follower: str, followed: str) -> bool:
    with app.app_context():
        query = sa.select(followers).where(followers.c.follower_id == find_user(follower).id,
                                           followers.c.followed_id == find_user(followed).id)
        return db.session.execute(query).first() is not None


@pytest.mark.browser
def test_following_from_a_list_in_place(page, live_app):
    # No script error and nothing the Content-Security-Policy blocks.
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "alice")
    page.goto("/user/dan/followers")
    page.evaluate("window.stillTheSamePage = true")
    rows = page.get_by_role("listitem")
    expect(rows.filter(has_text="alice")).to_have_count(0)  # alice does not follow dan
    follow_carol = page.get_by_role("button", name="Follow carol")
    follow_carol.click()
    unfollow_carol = page.get_by_role("button", name="Unfollow carol")
    expect(unfollow_carol).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You are following carol.")
    assert follows(live_app, "alice", "carol")
    # bob was followed already: his button says so, and undoes it.
    page.get_by_role("button", name="Unfollow bob").click()
    expect(page.get_by_role("button", name="Follow bob")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You are not following bob.")
    assert not follows(live_app, "alice", "bob")
    # And back again: the form now posts to the other address.
    unfollow_carol.click()
    expect(page.get_by_role("button", name="Follow carol")).to_be_visible()
    assert not follows(live_app, "alice", "carol")
    assert page.evaluate("window.stillTheSamePage") is True
    # Nothing was flashed for later: the next page shows no message about it.
    page.reload()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert errors == []


@pytest.mark.browser
def test_following_from_the_suggestions(page, live_app):
    sign_in(page, "alice")
    page.goto("/people/suggestions")
    expect(page.get_by_role("heading", name="Who to follow")).to_be_visible()
    expect(page.get_by_text("Followed by 1 person you follow")).to_be_visible()
    page.get_by_role("button", name="Follow dan").click()
    expect(page.get_by_role("button", name="Unfollow dan")).to_be_visible()
    assert follows(live_app, "alice", "dan")
    # The next view no longer suggests dan.
    page.reload()
    expect(page.get_by_role("button", name="Follow erin")).to_be_visible()
    expect(page.get_by_role("button", name="Follow dan")).to_have_count(0)


@pytest.mark.browser
def test_without_javascript_the_form_comes_back_to_the_list(new_context, live_app):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "alice")
    page.goto("/user/dan/followers")
    page.get_by_role("button", name="Follow carol").click()
    expect(page).to_have_url("/user/dan/followers")
    expect(page.get_by_role("alert")).to_contain_text("You are following carol.")
    expect(page.get_by_role("button", name="Unfollow carol")).to_be_visible()
    assert follows(live_app, "alice", "carol")


@pytest.mark.browser
def test_a_visitor_signs_in_from_a_profile_and_comes_back(page, live_app):
    page.goto("/user/dan")
    page.get_by_role("link", name="Sign in to follow dan").click()
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password", exact=True).fill("correct-horse")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url("/user/dan")
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
