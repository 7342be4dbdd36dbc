"""Error responses: pages in the site's style, JSON for clients that ask, and a rollback on 500."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask, abort
from flask_login import current_user, login_required

from microblog.extensions import db
from microblog.models import Post, User
from tests.factories import DEFAULT_PASSWORD, make_post, make_user

MAX_CONTENT_LENGTH = 4096
CODES = [400, 403, 404, 405, 413, 429, 500]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def add_failing_routes(app: Flask) -> None:
    """Routes that fail on purpose. Added before the app's first request: Flask refuses them later."""

    @app.route("/_fail/abort/<int:code>")
    def fail_with(code: int):
        abort(code)

    @app.route("/_fail/raise")
    def fail_unexpectedly():
        raise RuntimeError("boom: internal detail that must not leak")

    @app.post("/_fail/half_written/<how>")
    @login_required
    def fail_half_written(how: str):
        # A change that reached the database (flushed) but was never committed.
        current_user.username = "mallory"
        db.session.flush()
        if how == "abort":
            abort(500)
        if how == "integrity":
            db.session.add(Post(body="", author=current_user))  # breaks the body_length check
            db.session.commit()
        raise RuntimeError("failed halfway")


@pytest.fixture
def app(make_app) -> Flask:
    # PROPAGATE_EXCEPTIONS is on in testing; turn it off so an exception becomes the 500 page.
    app = make_app(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, PROPAGATE_EXCEPTIONS=False)
    add_failing_routes(app)
    with app.app_context():
        make_user("alice")
    return app


@pytest.fixture
def bob_post(app) -> int:
    with app.app_context():
        return make_post(make_user("bob"), "bob's post").id


def provoke(code: int, client, auth, bob_post: int, headers: dict[str, str] | None = None):
    """A request that ends in ``code``: through real pages where the site has one, else a failing route."""
    if code == 403:
        auth.login()
        return client.post(f"/post/{bob_post}/delete", headers=headers)
    if code == 404:
        return client.get("/no/such/page", headers=headers)
    if code == 405:
        return client.get("/auth/logout", headers=headers)
    if code == 413:
        body = {"username": "x" * MAX_CONTENT_LENGTH, "password": DEFAULT_PASSWORD}
        return client.post("/auth/login", data=body, headers=headers)
    if code == 500:
        return client.get("/_fail/raise", headers=headers)
    return client.get(f"/_fail/abort/{code}", headers=headers)  # 400, 429


def assert_site_page(response, code: int) -> str:
    assert response.status_code == code
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert re.search(r'<a class="navbar-brand[^"]*"[^>]*>Microblog</a>', html)
    assert re.search(rf'<p class="display-4[^"]*">{code}</p>', html)
    return html


def assert_json_error(response, code: int) -> dict:
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "message"}
    assert all(isinstance(value, str) and value for value in body.values())
    return body


@pytest.mark.parametrize("code", CODES)
def test_error_pages_are_html_in_the_site_style(client, auth, bob_post, code):
    html = assert_site_page(provoke(code, client, auth, bob_post, {"Accept": BROWSER_ACCEPT}), code)
    assert "boom" not in html and "Traceback" not in html


@pytest.mark.parametrize("code", CODES)
def test_errors_are_json_when_the_client_asks(client, auth, bob_post, code):
    body = assert_json_error(provoke(code, client, auth, bob_post, {"Accept": "application/json"}), code)
    assert "boom" not in body["message"]


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        (BROWSER_ACCEPT, "text/html"),
        ("text/html, application/json;q=0.5", "text/html"),
        ("application/json, text/html", "text/html"),  # a tie goes to HTML
        ("application/json", "application/json"),
        ("application/json, text/html;q=0.5", "application/json"),
        ("application/json, */*;q=0.1", "application/json"),
    ],
)
def test_the_accept_header_picks_html_or_json(client, accept, mimetype):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/no/such/page", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == mimetype


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/auth/logout", {"POST"}),
        ("GET", "/follow/bob", {"POST"}),
        ("POST", "/explore", {"GET", "HEAD"}),
        ("DELETE", "/user/alice", {"GET", "HEAD"}),
    ],
)
def test_405_says_which_methods_are_allowed(client, accept, method, path, allowed):
    response = client.open(path, method=method, headers={"Accept": accept})
    assert response.status_code == 405
    assert response.mimetype == accept
    listed = {item.strip() for item in response.headers["Allow"].split(",")}
    assert allowed <= listed
    assert method not in listed


def test_csrf_failure_is_a_400_page_or_json(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    html = assert_site_page(client.post("/auth/login", data={"username": "alice"}), 400)
    assert "Your form expired" in html
    body = assert_json_error(client.post("/auth/login", headers={"Accept": "application/json"}), 400)
    assert "Your form expired" in body["message"]


def test_an_oversized_body_is_413_and_stores_nothing(client, app):
    data = {"username": "carol", "email": "carol@example.com", "password": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD, "padding": "x" * MAX_CONTENT_LENGTH}
    assert_site_page(client.post("/auth/register", data=data), 413)
    with app.app_context():
        assert db.session.scalars(sa.select(User.username)).all() == ["alice"]


def test_other_http_errors_use_the_generic_page(client):
    html = assert_site_page(client.get("/_fail/abort/418"), 418)
    assert "Error" in html


def test_a_500_is_logged(client, caplog):
    client.get("/_fail/raise")
    assert any(record.levelname == "ERROR" and record.exc_info for record in caplog.records)


@pytest.mark.parametrize("how", ["raise", "abort", "integrity"])
def test_a_500_rolls_back_a_half_written_change(client, app, auth, how):
    auth.login()
    html = assert_site_page(client.post(f"/_fail/half_written/{how}"), 500)
    # The page was drawn after the rollback: the navbar links to the name in the database.
    assert 'href="/user/alice"' in html
    assert "mallory" not in html
    with app.app_context():
        assert db.session.scalars(sa.select(User.username)).all() == ["alice"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
    assert client.get("/user/alice").status_code == 200  # the next request finds a healthy session
