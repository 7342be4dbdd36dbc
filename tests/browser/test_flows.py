"""End-to-end flows in headless Chromium: sign-up, posting, following, offline assets, mobile navbar."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post, User
from tests.browser.helpers import register, seed_user, sign_in, sign_out
from tests.factories import make_post

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None


# --- flows ----------------------------------------------------------------------------------------

@pytest.mark.browser
def test_register_post_follow_and_see_the_post_on_the_timeline(page, live_app):
    register(page, "bob")
    sign_out(page)
    register(page, "alice")  # signed in by registering

    page.get_by_label("Say something").fill("Hello from a real browser!")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    sign_out(page)

    sign_in(page, "bob")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("Hello from a real browser!")).to_have_count(0)
    page.goto("/user/alice")
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("alert")).to_contain_text("You are following alice.")
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(timeline.get_by_text("Hello from a real browser!")).to_be_visible()
    expect(page.get_by_text("Your timeline is quiet.")).to_have_count(0)

    sign_out(page)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()
    page.goto("/edit_profile")  # a signed-in-only page now sends us to the login form
    expect(page).to_have_url("/auth/login?next=%2Fedit_profile")

    with live_app.app_context():
        alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        assert bob.is_following(alice)
        assert not alice.is_following(bob)
        assert [p.body for p in db.session.scalars(sa.select(Post))] == ["Hello from a real browser!"]


@pytest.mark.browser
def test_new_user_sees_the_empty_state_and_a_field_error_for_a_long_post(page, live_app):
    seed_user(live_app, "carol")
    sign_in(page, "carol")

    quiet = page.get_by_role("status")
    expect(quiet).to_contain_text("Your timeline is quiet.")
    expect(quiet.get_by_role("link", name="Find people on Explore")).to_have_attribute("href", "/explore")

    limit = live_app.config["POST_MAX_LENGTH"]
    too_long = "x" * (limit + 1)
    textarea = page.get_by_label("Say something")
    textarea.fill(too_long)
    # Said before anything is sent (static/compose.js counts as the server does; without JavaScript
    # the server says the same: tests/browser/test_composer_js.py).
    page.get_by_role("button", name="Post", exact=True).click()

    message = f"A post is at most {limit} characters (this one has {limit + 1})."
    expect(textarea).to_have_attribute("aria-invalid", "true")
    expect(textarea).to_have_accessible_description(message)
    expect(textarea).to_have_value(too_long)  # what the user typed is kept
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0

    quiet.get_by_role("link", name="Find people on Explore").click()
    expect(page).to_have_url("/explore")
    expect(page.get_by_role("heading", name="Explore")).to_be_visible()


@pytest.mark.browser
def test_home_page_loads_every_asset_from_our_own_server(new_context, live_app, live_server, tmp_path):
    seed_user(live_app, "dave", posts=1, follows="erin")
    with live_app.app_context():
        make_post(db.session.scalar(sa.select(User).where(User.username == "erin")))
    ours = urlsplit(live_server).netloc
    context = new_context()
    requests, failed, bad, errors = [], [], [], []

    def offline(route):
        # Routing also bypasses the HTTP cache, so every asset of every page shows up as a request.
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            route.abort("internetdisconnected")

    context.route("**/*", offline)
    context.on("request", lambda r: requests.append(r.url))
    context.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    context.on("response", lambda r: r.status >= 400 and bad.append(f"{r.url} ({r.status})"))
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    sign_in(page, "dave")
    page.goto("/")
    page.wait_for_load_state("networkidle")

    assert not [url for url in requests if urlsplit(url).netloc != ours]
    assert failed == []
    assert bad == []
    assert errors == []
    assets = page.evaluate(
        """() => [...document.querySelectorAll('link[rel=stylesheet], script[src], img')]
                 .map(e => e.href || e.src)"""
    )
    assert any(url.endswith(".css") for url in assets) and any(url.endswith(".js") for url in assets)
    assert all(urlsplit(url).netloc == ours and url in requests for url in assets)

    # Bootstrap's CSS and JS did arrive and work: the navbar is laid out by it and the JS API is there.
    expect(page.get_by_role("navigation", name="Main")).to_have_css("display", "flex")
    assert page.evaluate("typeof window.bootstrap?.Collapse") == "function"
    expect(page.get_by_role("button", name="Toggle navigation")).to_be_hidden()  # wide: no toggler
    expect(page.get_by_role("region", name="Timeline").get_by_role("article")).to_have_count(2)

    shot = tmp_path / "home.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
def test_navbar_collapses_on_a_narrow_screen_and_the_toggler_opens_it(new_context, live_app):
    seed_user(live_app, "frank")
    page = new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True).new_page()
    sign_in(page, "frank")

    navbar = page.get_by_role("navigation", name="Main")
    toggler = navbar.get_by_role("button", name="Toggle navigation")
    explore = navbar.get_by_role("link", name="Explore", exact=True)
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(explore).to_be_hidden()

    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    # Bootstrap slides the menu open ("collapsing") for 0.35 s; a tap during the slide can land on a
    # moving button and be lost. The menu is open once it has "show" again.
    expect(page.locator("#navbar-menu")).to_have_class(re.compile(r"\bshow\b"))
    expect(explore).to_be_visible()
    expect(navbar.get_by_role("button", name="Sign out")).to_be_visible()

    sign_out(page)  # reachable from the opened menu
