"""Profile pictures and header images from Edit profile: upload, replace, remove, refusals, suspended
accounts, CSRF and the request size allowance; the profile page shows them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from microblog.extensions import db
from microblog.models import User
from microblog.timeutil import utcnow
from tests import media_samples
from tests.factories import DEFAULT_PASSWORD, make_user, signed_in_client

PROFILE = {"username": "alice", "about_me": "hello"}


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("alice", about_me="original")
    return signed_in_client(app, "alice")


def keys(app, username: str = "alice") -> tuple[str | None, str | None]:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        return user.avatar_key, user.header_key


def stored(app, key: str) -> Path:
    return Path(app.config["MEDIA_DIR"]) / key


def save_profile(client, *, avatar: bytes | None = None, header: bytes | None = None,
                 name: str = "picture.jpg", **fields):
    data: dict = {**PROFILE, **fields}
    if avatar is not None:
        data["avatar"] = (io.BytesIO(avatar), name)
    if header is not None:
        data["header"] = (io.BytesIO(header), name)
    return client.post("/edit_profile", data=data, content_type="multipart/form-data")


def test_upload_a_profile_picture_and_a_header(app, alice):
    response = save_profile(alice, avatar=media_samples.jpeg_bytes(900, 600, gps=True),
                            header=media_samples.png_bytes(1800, 400))
    assert response.status_code == 302
    assert response.headers["Location"] == "/user/alice"
    avatar_key, header_key = keys(app)
    assert re.fullmatch(r"m/[0-9a-f]{2}/[0-9a-f]{64}\.jpg", avatar_key)
    with Image.open(stored(app, avatar_key)) as avatar:
        assert avatar.size == (400, 400)  # a centred square
        assert not avatar.getexif()  # the GPS coordinates are gone
    with Image.open(stored(app, header_key)) as header:
        assert header.size == (1200, 400)  # cropped to 3:1, never enlarged
    with app.app_context():
        assert db.session.scalar(sa.select(User.about_me).where(User.username == "alice")) == "hello"

    page = alice.get("/user/alice").get_data(as_text=True)
    assert f'<img src="/media/{avatar_key}" alt="Avatar of alice"' in page
    assert f'<img src="/media/{header_key}" alt=""' in page  # decorative
    assert f'src="/media/{avatar_key}"' in alice.get("/").get_data(as_text=True)  # the navbar too
    edit = alice.get("/edit_profile").get_data(as_text=True)
    assert f'src="/media/{avatar_key}"' in edit and f'src="/media/{header_key}"' in edit
    assert "Remove the profile picture" in edit and "Remove the header image" in edit


def test_the_profile_has_a_neutral_band_and_the_identicon_without_pictures(app, alice):
    page = alice.get("/user/alice").get_data(as_text=True)
    assert re.search(r'<div class="profile-header mb-2"></div>', page)
    assert re.search(r'<img src="/avatar/[0-9a-f]+\.svg" alt="Avatar of alice"', page)
    edit = alice.get("/edit_profile").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in edit
    assert 'name="avatar"' in edit and 'name="header"' in edit
    assert "Remove the profile picture" not in edit and "Remove the header image" not in edit


def test_a_new_picture_replaces_the_old_one_whose_file_goes(app, alice):
    save_profile(alice, avatar=media_samples.jpeg_bytes(300, 300, (10, 200, 10)))
    first, _ = keys(app)
    assert stored(app, first).is_file()
    save_profile(alice, avatar=media_samples.jpeg_bytes(300, 300, (200, 10, 10)))
    second, _ = keys(app)
    assert second != first
    assert stored(app, second).is_file()
    assert not stored(app, first).exists()


def test_saving_without_a_file_keeps_the_pictures(app, alice):
    save_profile(alice, avatar=media_samples.jpeg_bytes(), header=media_samples.jpeg_bytes(600, 200))
    before = keys(app)
    # A browser sends an empty file part for a file input left empty.
    empty = {"avatar": (io.BytesIO(b""), ""), "header": (io.BytesIO(b""), "")}
    response = alice.post("/edit_profile", data={**PROFILE, "about_me": "again", **empty},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    assert keys(app) == before


@pytest.mark.parametrize("kind", ["avatar", "header"])
def test_remove_a_picture(app, alice, kind):
    save_profile(alice, avatar=media_samples.jpeg_bytes(), header=media_samples.jpeg_bytes(600, 200))
    avatar_key, header_key = keys(app)
    response = alice.post("/edit_profile/remove_picture", data={"kind": kind})
    assert response.status_code == 302
    assert response.headers["Location"] == "/edit_profile"
    gone, kept = (avatar_key, header_key) if kind == "avatar" else (header_key, avatar_key)
    assert keys(app) == ((None, header_key) if kind == "avatar" else (avatar_key, None))
    assert not stored(app, gone).exists()
    assert stored(app, kept).is_file()
    message = {"avatar": "Your profile picture has been removed.",
               "header": "Your header image has been removed."}
    assert message[kind] in alice.get("/edit_profile").get_data(as_text=True)


def test_removing_is_post_only_and_names_a_known_kind(app, alice):
    save_profile(alice, avatar=media_samples.jpeg_bytes())
    assert alice.get("/edit_profile/remove_picture").status_code == 405
    for kind in ("", "password", "avatar_key"):
        assert alice.post("/edit_profile/remove_picture", data={"kind": kind}).status_code == 400
    assert keys(app)[0] is not None


@pytest.mark.parametrize("content, name", [
    (media_samples.SVG, "drawing.svg"),
    (media_samples.HTML, "photo.jpg"),
    (b"", "empty.png"),
])
@pytest.mark.parametrize("kind", ["avatar", "header"])
def test_a_file_that_is_not_an_image_is_refused_on_the_form(app, alice, content, name, kind):
    response = save_profile(alice, name=name, about_me="should not be saved", **{kind: content})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    field = re.search(rf'<input[^>]*id="{kind}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field
    assert f'aria-describedby="{kind}-help {kind}-error"' in field
    error = re.search(rf'<div id="{kind}-error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "not an image we accept" in error or "The file is empty." in error
    # Nothing saved: no picture, no file, not even the other fields of the form.
    assert keys(app) == (None, None)
    assert not any(Path(app.config["MEDIA_DIR"]).rglob("*.*"))
    with app.app_context():
        assert db.session.scalar(sa.select(User.about_me).where(User.username == "alice")) == "original"


def test_too_large_a_picture_is_refused_and_too_large_a_request_stopped(make_app):
    app = make_app(MEDIA_MAX_BYTES=30_000, MAX_CONTENT_LENGTH=20_000)
    with app.app_context():
        make_user("alice")
    client = signed_in_client(app, "alice")
    big = media_samples.jpeg_bytes(200, 200, noise=True)
    assert 30_000 < len(big) < 2 * 30_000 + 20_000
    response = save_profile(client, avatar=big)
    assert response.status_code == 200
    assert "This file is too large" in response.get_data(as_text=True)
    # The allowance is two pictures on top of the form: a request past it never reaches the view.
    huge = media_samples.jpeg_bytes(400, 400, noise=True)
    assert len(huge) > 2 * 30_000 + 20_000
    assert save_profile(client, avatar=huge).status_code == 413
    assert keys(app) == (None, None)


def test_a_suspended_account_cannot_change_its_pictures(app, alice):
    save_profile(alice, avatar=media_samples.jpeg_bytes())
    before = keys(app)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        user.suspended_at = utcnow()
        db.session.commit()
    response = save_profile(alice, avatar=media_samples.png_bytes(), header=media_samples.png_bytes())
    assert response.status_code == 302
    assert keys(app) == before
    assert alice.post("/edit_profile/remove_picture", data={"kind": "avatar"}).status_code == 302
    assert keys(app) == before
    assert "that change was not made" in alice.get("/").get_data(as_text=True)


# -- CSRF (switched on, as in test_csrf.py) ------------------------------------------------------------
@pytest.fixture
def csrf_app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice", about_me="original")
    return app


TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, page: str = "/edit_profile") -> str:
    """The token in the page's hidden csrf_token input, as a browser sends it back."""
    return TOKEN.search(client.get(page).get_data(as_text=True)).group(1)


def sign_in_with_csrf(app):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD,
                                                "csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_uploading_needs_the_csrf_token(csrf_app, token):
    client = sign_in_with_csrf(csrf_app)
    data = {**PROFILE, "avatar": (io.BytesIO(media_samples.jpeg_bytes()), "me.jpg")}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/edit_profile", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert keys(csrf_app) == (None, None)
    data = {**PROFILE, "avatar": (io.BytesIO(media_samples.jpeg_bytes()), "me.jpg"),
            "csrf_token": csrf_token(client)}
    assert client.post("/edit_profile", data=data, content_type="multipart/form-data").status_code == 302
    assert keys(csrf_app)[0] is not None


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_removing_needs_the_csrf_token(csrf_app, token):
    client = sign_in_with_csrf(csrf_app)
    data = {**PROFILE, "avatar": (io.BytesIO(media_samples.jpeg_bytes()), "me.jpg"),
            "csrf_token": csrf_token(client)}
    client.post("/edit_profile", data=data, content_type="multipart/form-data")
    avatar_key = keys(csrf_app)[0]
    assert avatar_key is not None
    refused = {"kind": "avatar"} if token is None else {"kind": "avatar", "csrf_token": token}
    assert client.post("/edit_profile/remove_picture", data=refused).status_code == 400
    assert keys(csrf_app)[0] == avatar_key
    # The token of the page's own remove form works.
    html = client.get("/edit_profile").get_data(as_text=True)
    form = re.search(r'<form id="remove-avatar".*?</form>', html, re.S).group(0)
    data = {"kind": "avatar", "csrf_token": TOKEN.search(form).group(1)}
    response = client.post("/edit_profile/remove_picture", data=data)
    assert response.status_code == 302
    assert keys(csrf_app)[0] is None
