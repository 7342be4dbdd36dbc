"""The colour theme: the footer's form (a cookie for everyone, the account for signed-in people), the
Edit profile setting, and the theme the server draws (data-bs-theme, color-scheme)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import User
from tests.factories import make_user


def drawn(client, path: str = "/explore") -> tuple[str, str]:
    """(data-bs-theme of <html>, content of the color-scheme meta) of a page."""
    html = client.get(path).get_data(as_text=True)
    theme = re.search(r'<html [^>]*data-bs-theme="([^"]+)"', html)
    scheme = re.search(r'<meta name="color-scheme" content="([^"]+)"', html)
    assert theme and scheme, "no theme drawn"
    return theme.group(1), scheme.group(1)


def saved_theme(app, username: str = "alice") -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.theme).where(User.username == username))


def test_visitors_get_the_devices_theme_by_default(client):
    assert drawn(client) == ("auto", "light dark")


@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_the_footer_form_keeps_a_visitors_choice_in_a_cookie(client, theme):
    response = client.post("/theme", data={"theme": theme, "next": "/explore?page=2"})
    assert response.status_code == 302 and response.headers["Location"] == "/explore?page=2"
    assert client.get_cookie("theme").value == theme
    assert drawn(client) == (theme, "light dark" if theme == "auto" else theme)
    page = client.get("/explore").get_data(as_text=True)
    assert f'<option value="{theme}" selected>' in page


@pytest.mark.parametrize("data", [
    {"theme": "pink"}, {"theme": ""}, {}, {"theme": "dark", "next": "//evil.example"},
])
def test_the_footer_form_ignores_bad_input(client, data):
    response = client.post("/theme", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/index"
    if data.get("theme") != "dark":
        assert client.get_cookie("theme") is None
        assert drawn(client)[0] == "auto"


def test_a_bad_cookie_is_ignored(client):
    client.set_cookie("theme", "<script>")
    assert drawn(client) == ("auto", "light dark")


def test_signed_in_the_footer_form_saves_the_choice_on_the_account(client, app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    assert drawn(client, "/") == ("auto", "light dark")
    client.post("/theme", data={"theme": "dark", "next": "/"})
    assert saved_theme(app) == "dark"
    assert drawn(client, "/") == ("dark", "dark")


def test_the_accounts_theme_beats_the_cookie(client, app, auth):
    with app.app_context():
        make_user("alice", theme="light")
    client.set_cookie("theme", "dark")
    assert drawn(client)[0] == "dark"  # a visitor: the cookie
    auth.login()
    assert drawn(client)[0] == "light"  # signed in: the account, on every device


def test_edit_profile_shows_and_saves_the_theme(client, app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    page = client.get("/edit_profile").get_data(as_text=True)
    assert re.search(r'<select[^>]*id="theme"', page) and '<option selected value="auto">' in page
    response = client.post("/edit_profile", data={"username": "alice", "about_me": "", "theme": "dark"})
    assert response.status_code == 302
    assert saved_theme(app) == "dark"
    assert drawn(client, "/edit_profile")[0] == "dark"


def test_edit_profile_refuses_an_unknown_theme(client, app, auth):
    with app.app_context():
        make_user("alice", theme="light")
    auth.login()
    response = client.post("/edit_profile", data={"username": "alice", "about_me": "", "theme": "pink"})
    assert response.status_code == 200
    assert "Please choose one of the listed themes." in response.get_data(as_text=True)
    assert saved_theme(app) == "light"


def test_edit_profile_without_the_field_keeps_the_theme(client, app, auth):
    with app.app_context():
        make_user("alice", theme="dark")
    auth.login()
    assert client.post("/edit_profile", data={"username": "alice", "about_me": ""}).status_code == 302
    assert saved_theme(app) == "dark"


def test_the_theme_form_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/theme", data={"theme": "dark", "next": "/explore"})
    assert response.status_code in (302, 400)
    assert client.get_cookie("theme") is None
