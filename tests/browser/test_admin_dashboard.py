"""The admin dashboard in a real browser: every chart is drawn from its JSON (no CSP complaint, no
request elsewhere), with its text alternatives; the profile's calendar too. Screenshots are kept."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from microblog.services import stats
from microblog.timeutil import utcnow
from tests.browser.helpers import keep, sign_in
from tests.factories import make_follow, make_post, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

CHARTS = ("signups", "posts", "active", "followers", "top-posters")


def seed(app) -> None:
    with app.app_context():
        make_user("root", role="admin")
        alice, bob = make_user("alice"), make_user("bob")
        for days_ago in (0, 1, 1, 3, 8, 8, 8, 40):
            make_post(alice, timestamp=utcnow() - timedelta(days=days_ago))
        make_post(bob)
        make_follow(bob, alice)
        stats.mark_active(alice.id, utcnow().date() - timedelta(days=1))
        from microblog.extensions import db

        db.session.commit()


def drawn_pixels(page, selector: str) -> int:
    """How many pixels of the canvas are not transparent: a drawn chart has many."""
    return page.evaluate(
        """(selector) => {
            const canvas = document.querySelector(selector);
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) count++; }
            return count;
        }""",
        selector,
    )


def test_the_dashboard_draws_its_charts(new_context, live_app, live_server, tmp_path):
    seed(live_app)
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, "root")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()

    for name in CHARTS:
        figure = page.locator(f'figure[data-chart-url="/admin/charts/{name}.json"]')
        expect(figure).to_have_attribute("data-chart-drawn", "true")
        canvas = figure.locator("canvas")
        expect(canvas).to_have_attribute("role", "img")
        label = canvas.get_attribute("aria-label")
        assert label and label[0].isupper() and label.endswith("."), label
        assert drawn_pixels(page, f'figure[data-chart-url="/admin/charts/{name}.json"] canvas') > 500, name
        assert page.evaluate(
            "(s) => Boolean(window.Chart.getChart(document.querySelector(s)))",
            f'figure[data-chart-url="/admin/charts/{name}.json"] canvas',
        )
    # The text alternative of a chart: its data as a table.
    posts = page.locator('figure[data-chart-url="/admin/charts/posts.json"]')
    posts.get_by_text("Show the data as a table").click()
    expect(posts.get_by_role("table").get_by_role("row")).to_have_count(1 + 90)
    top = page.locator('figure[data-chart-url="/admin/charts/top-posters.json"]')
    expect(top.locator("canvas")).to_have_attribute("aria-label", "Top posters: alice (8) and bob (1).")

    ours = urlsplit(live_server).netloc
    assert [url for url in requests if urlsplit(url).netloc != ours] == []
    assert problems == []
    shot = tmp_path / "admin-dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    keep(shot)


def test_the_profile_calendar_is_drawn_in_every_direction(new_context, live_app, tmp_path):
    seed(live_app)
    for locale in ("en", "ar"):
        page = new_context(locale=locale, viewport={"width": 1200, "height": 900}).new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error, problems=problems: problems.append(str(error)))
        page.goto("/user/alice")
        figure = page.locator('figure[data-chart-url="/user/alice/activity.json"]')
        expect(figure).to_have_attribute("data-chart-drawn", "true")
        # The profile shows the server's picture of the calendar (no Chart.js), labelled with the summary.
        picture = figure.locator("img.chart-fallback")
        expect(picture).to_be_visible()
        label = picture.get_attribute("alt")
        assert "alice" in label and "8" in label
        assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
        expect(figure.locator("canvas")).to_be_hidden()
        assert page.evaluate("typeof window.Chart") == "undefined"
        assert problems == []
        shot = tmp_path / f"profile-calendar-{locale}.png"
        page.screenshot(path=str(shot), full_page=True)
        keep(shot)
