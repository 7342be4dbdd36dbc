"""Request size limits with CSRF on, as in production, beyond the home page's form (tests/test_media.py):
a reply takes images too, every other view stays at MAX_CONTENT_LENGTH, and the allowance is a limit."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Media, Post
from tests import media_samples
from tests.factories import DEFAULT_PASSWORD, make_user

# Random pixels do not compress: well over MAX_CONTENT_LENGTH (1 MiB), well under MEDIA_MAX_BYTES.
LARGE_PHOTO = media_samples.jpeg_bytes(1500, 1100, noise=True)


def token(client, path: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


@pytest.fixture
def site(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD,
                                                "csrf_token": token(client, "/auth/login")})
    assert response.status_code == 302
    return app, client


def test_a_reply_takes_images_too(site):
    app, client = site
    client.post("/", data={"csrf_token": token(client, "/"), "post": "a question"})
    with app.app_context():
        question = db.session.scalars(sa.select(Post)).one()
    response = client.post(f"/post/{question.id}/reply",
                           data={"csrf_token": token(client, f"/post/{question.id}"), "post": "an answer",
                                 "media-0": (io.BytesIO(LARGE_PHOTO), "big.jpg"), "alt-0": "static"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Media)) == 1


def test_other_views_keep_the_small_limit(site):
    app, client = site
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/auth/logout", data={"csrf_token": token(client, "/"), "x": "y" * (limit + 10)})
    assert response.status_code == 413
    with_file = client.post("/auth/logout", data={"csrf_token": token(client, "/"),
                                                  "media-0": (io.BytesIO(LARGE_PHOTO), "big.jpg")},
                            content_type="multipart/form-data")
    assert with_file.status_code == 413
    assert client.get("/").status_code == 200  # still signed in: neither reached the view


def test_the_upload_limit_holds(site):
    app, client = site
    app.config["MEDIA_MAX_BYTES"] = 100_000  # so the limit is 4 x 100 kB + 1 MiB
    files = {f"media-{n}": (io.BytesIO(LARGE_PHOTO), "big.jpg") for n in range(2)}
    response = client.post("/", data={"csrf_token": token(client, "/"), "post": "too big", **files},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
