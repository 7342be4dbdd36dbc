"""The profile's activity calendar: month labels in its data, and a picture drawn on the server."""

from __future__ import annotations

from datetime import timedelta

from microblog.timeutil import utcnow
from tests.factories import make_post, make_user


def test_the_calendar_data_names_the_months(app, client):
    with app.app_context():
        make_post(make_user("alice"), "today")
    data = client.get("/user/alice/activity.json").json
    assert data["months"], "no month labels"
    for index, label in data["months"]:
        assert data["keys"][index].endswith("-01") or index == 0
        assert label
    assert len(data["months"]) in (12, 13)


def test_the_calendar_picture_works_without_javascript(app, client):
    with app.app_context():
        alice = make_user("alice")
        make_post(alice, "today")
        make_post(alice, "last week", timestamp=utcnow() - timedelta(days=7))
    response = client.get("/user/alice/activity.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "private" in response.headers["Cache-Control"]
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and svg.count("<rect") >= 365
    assert "<title id=\"t\">Posts per day over the last year</title>" in svg
    assert "alice wrote 2 posts in the last year" in svg
    assert "1 post on" in svg  # each day's square says its count
    assert ">Mon<" in svg and f">{utcnow():%b}<" in svg  # this month begins in the year shown
    assert "<script" not in svg


def test_the_profile_shows_the_picture_until_the_chart_is_drawn(app, client):
    with app.app_context():
        make_user("alice")
    html = client.get("/user/alice").get_data(as_text=True)
    assert '<img class="chart-fallback" src="/user/alice/activity.svg"' in html
    assert 'class="chart-scroll" tabindex="0"' in html


def test_a_name_in_the_picture_is_escaped(app, client):
    """Usernames cannot hold markup today; the summary is escaped all the same."""
    with app.app_context():
        make_user("alice")
    svg = client.get("/user/alice/activity.svg").get_data(as_text=True)
    assert "alice has not posted in the last year." in svg


def test_an_unknown_profile_has_no_picture(client):
    assert client.get("/user/nobody/activity.svg").status_code == 404


def test_the_box_on_the_page_has_the_picture_s_proportions(app):
    """microblog.css gives the calendar's box the SVG's aspect ratio: keep the two in step."""
    from pathlib import Path

    from microblog.calendar_svg import SIZE

    css = (Path(app.root_path) / "static" / "microblog.css").read_text()
    assert f"aspect-ratio: {SIZE[0]} / {SIZE[1]};" in css


def test_the_picture_follows_the_theme_the_person_chose(app, client, auth):
    """An <img> cannot see the page's theme: the page asks for the chosen one, "auto" follows the device."""
    with app.app_context():
        make_user("alice", theme="dark"), make_user("bob")
    auto = client.get("/user/bob/activity.svg").get_data(as_text=True)
    assert "prefers-color-scheme:dark" in auto and "#4f46e5" in auto and "#a5b4fc" in auto
    auth.login("alice")
    page = client.get("/user/bob").get_data(as_text=True)
    assert 'src="/user/bob/activity.svg?theme=dark"' in page
    dark = client.get("/user/bob/activity.svg?theme=dark").get_data(as_text=True)
    assert "#a5b4fc" in dark and "#4f46e5" not in dark and "prefers-color-scheme" not in dark
    light = client.get("/user/bob/activity.svg?theme=light").get_data(as_text=True)
    assert "#4f46e5" in light and "#a5b4fc" not in light
    odd = client.get("/user/bob/activity.svg?theme=%3C/style%3E").get_data(as_text=True)
    assert odd == auto  # anything else is "auto", and never reaches the picture
