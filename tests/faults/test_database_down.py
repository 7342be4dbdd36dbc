"""The database goes away: pages and the API answer 503 without it, and recover when it is back."""

from __future__ import annotations

import time

import pytest

from microblog.extensions import db
from tests.factories import make_post, make_user
from tests.smtp import free_port


@pytest.fixture
def database(tmp_path):
    # These tests point the app at databases that are not there; one variant is enough.
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}"}


@pytest.mark.parametrize("uri", [
    "postgresql+psycopg://postgres@127.0.0.1:{port}/nothing?connect_timeout=2",
    "sqlite:///{tmp}/missing-folder/app.db",
])
def test_pages_and_api_answer_503_without_a_database(make_app, tmp_path, uri):
    app = make_app(create_tables=False, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
                   SQLALCHEMY_DATABASE_URI=uri.format(port=free_port(), tmp=tmp_path))
    client = app.test_client()
    page = client.get("/explore")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "Back in a moment" in page.get_data(as_text=True)
    api = client.get("/api/posts")
    assert api.status_code == 503 and api.json["error"] == "Back in a moment"
    assert client.get("/healthz").status_code == 503
    # A signed-in visitor too: the user loader is what fails first.
    with client.session_transaction() as session:
        session["_user_id"] = "1"
    assert client.get("/").status_code == 503


def test_the_site_recovers_as_soon_as_the_database_is_back(make_app, tmp_path):
    folder = tmp_path / "later"
    app = make_app(create_tables=False, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/app.db")
    client = app.test_client()
    assert client.get("/explore").status_code == 503
    folder.mkdir()
    with app.app_context():
        db.create_all()
        make_post(make_user("bob"), "I am back")
    started = time.monotonic()
    response = client.get("/explore")
    assert response.status_code == 200 and "I am back" in response.get_data(as_text=True)
    assert time.monotonic() - started < 5
