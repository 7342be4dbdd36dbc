"""Mastodon's media API (docs: methods/media): v2 uploads processed by the job (202, then 206 and 200
when polled), v1 uploads processed before the answer, descriptions, focus, someone else's upload, the
refusals (422, 413 in Mastodon's error shape) and the upload allowance past MAX_CONTENT_LENGTH."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from microblog import jobs
from microblog.extensions import db
from microblog.models import Media
from microblog.services import media, posts
from tests import media_samples
from tests.factories import find_user, make_user, signed_in_client
from tests.mastodon_helpers import token_with

SITE = "http://microblog.test"
ATTACHMENT_KEYS = {"id", "type", "url", "preview_url", "remote_url", "preview_remote_url", "text_url", "meta",
                   "description", "blurhash"}


def signed_in(app, name: str):
    with app.app_context():
        make_user(name)
    client = signed_in_client(app, name)
    return client, token_with(client)


@pytest.fixture
def alice(app):
    return signed_in(app, "alice")


@pytest.fixture
def held(monkeypatch) -> list[int]:
    """Uploads wait for the worker (their processing jobs are held here, by media id)."""
    waiting: list[int] = []
    enqueue = jobs.enqueue

    def hold(func, *args, **kwargs):
        if func is media.process_media:
            waiting.append(args[0])
            return "held"
        return enqueue(func, *args, **kwargs)

    monkeypatch.setattr(jobs, "enqueue", hold)
    return waiting


def upload(client, headers, content: bytes | None = None, version: int = 2, **fields):
    data: dict = {"file": (io.BytesIO(media_samples.jpeg_bytes() if content is None else content), "a.jpg"),
                  **fields}
    return client.post(f"/api/v{version}/media", data=data, headers=headers,
                       content_type="multipart/form-data")


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Media)) or 0


def test_v2_upload_is_202_then_polled_206_then_200(app, alice, held):
    client, token = alice
    response = upload(client, token, media_samples.png_bytes(40, 30), description="a blue square")
    assert response.status_code == 202, response.json
    pending = response.json
    assert set(pending) == ATTACHMENT_KEYS
    assert pending["url"] is None and pending["description"] == "a blue square"
    assert held == [int(pending["id"])]
    polled = client.get(f"/api/v1/media/{pending['id']}", headers=token)
    assert polled.status_code == 206 and polled.json["url"] is None
    with app.app_context():
        media.process_media(held[0])
    done = client.get(f"/api/v1/media/{pending['id']}", headers=token)
    assert done.status_code == 200
    body = done.json
    assert body["type"] == "image" and body["url"].startswith(f"{SITE}/media/m/")
    assert body["preview_url"].startswith(f"{SITE}/media/m/") and body["blurhash"]
    original = {"width": 40, "height": 30, "size": "40x30", "aspect": round(40 / 30, 6)}
    assert body["meta"]["original"] == original


def test_v2_upload_already_processed_is_200(alice):
    client, token = alice
    response = upload(client, token)  # the test app runs jobs at once
    assert response.status_code == 200 and response.json["url"].startswith(f"{SITE}/media/m/")


def test_v1_upload_is_processed_before_the_answer(app, alice, held):
    client, token = alice
    response = upload(client, token, media_samples.gif_bytes(), version=1, description="blinking")
    assert response.status_code == 200, response.json
    assert response.json["type"] == "gifv" and response.json["url"].startswith(f"{SITE}/media/m/")
    assert held == []  # nothing left for the job


def test_describe_with_put_and_focus_is_checked(app, alice, held):
    client, token = alice
    item = upload(client, token).json
    path = f"/api/v1/media/{item['id']}"
    described = client.put(path, data={"description": "A red sky", "focus": "0.5,-0.25"}, headers=token)
    assert described.status_code == 206 and described.json["description"] == "A red sky"
    as_json = client.put(path, json={"description": "Sunset"}, headers=token)
    assert as_json.json["description"] == "Sunset"
    unchanged = client.put(path, data={"focus": "0,0"}, headers=token)
    assert unchanged.json["description"] == "Sunset"
    for focus in ("2,0", "a,b", "0.5", "nan,0", "0,0,0"):
        response = client.put(path, data={"focus": focus}, headers=token)
        assert response.status_code == 422 and "Focus" in response.json["error"], focus
    for bad in ({"description": "bell \x07"}, {"description": "x" * 5000}):
        response = client.put(path, data=bad, headers=token)
        assert response.status_code == 422 and response.json["error"]
    assert client.put(path, json={"description": ["a", "list"]}, headers=token).status_code == 422
    with app.app_context():
        media.process_media(held[0])
    assert client.put(path, data={"description": ""}, headers=token).json["description"] is None


def test_an_attached_upload_is_no_longer_found(app, alice):
    """As Mastodon's: the media API shows uploads no status carries yet."""
    client, token = alice
    item = upload(client, token).json
    with app.app_context():
        posts.publish_post(find_user("alice"), "with a picture", media_ids=[int(item["id"])])
    assert client.get(f"/api/v1/media/{item['id']}", headers=token).status_code == 404
    described = client.put(f"/api/v1/media/{item['id']}", data={"description": "x"}, headers=token)
    assert described.status_code == 404


def test_a_failed_upload_is_422_when_polled(app, alice, held):
    client, token = alice
    broken = media_samples.png_bytes(200, 200)[:-40]  # a real header, its pixels cut short
    item = upload(client, token, broken).json
    with app.app_context():
        media.process_media(held[0])
    response = client.get(f"/api/v1/media/{item['id']}", headers=token)
    assert response.status_code == 422 and response.json == {
        "error": "Error processing thumbnail for uploaded media"}
    assert upload(client, token, broken, version=1).status_code == 422


def test_someone_elses_upload_and_bad_ids_are_404(app, alice):
    client, token = alice
    item = upload(client, token).json
    other, other_token = signed_in(app, "bob")
    for path in (f"/api/v1/media/{item['id']}", "/api/v1/media/abc", "/api/v1/media/99999999",
                 "/api/v1/media/-1", "/api/v1/media/99999999999999999999999"):
        assert other.get(path, headers=other_token).status_code == 404, path
        response = other.put(path, data={"description": "mine now"}, headers=other_token)
        assert response.status_code == 404 and response.json == {"error": "Record not found"}


def test_tokens_and_scopes(alice):
    client, token = alice
    assert upload(client, {}).status_code == 401
    assert client.get("/api/v1/media/1").status_code == 401
    read_only = token_with(client, "read")
    assert upload(client, read_only).status_code == 403
    assert client.get("/api/v1/media/1", headers=read_only).status_code == 403
    assert upload(client, token_with(client, "write:media")).status_code == 200


@pytest.mark.parametrize("content", [media_samples.SVG, media_samples.HTML, b"%PDF-1.7\n1 0 obj"])
def test_files_that_are_not_images_are_422(app, alice, content):
    client, token = alice
    # Mastodon's errors are English, whatever language the client asks for.
    response = upload(client, {**token, "Accept-Language": "de"}, content)
    assert response.status_code == 422 and "not an image we accept" in response.json["error"]
    assert set(response.json) == {"error"} and count(app) == 0


@pytest.mark.parametrize("make_data", [
    lambda: {},  # no file at all
    lambda: {"file": "not a file part"},
    lambda: {"file": (io.BytesIO(b""), "empty.png")},
    lambda: {"file": (io.BytesIO(media_samples.png_bytes()), "a.png"), "focus": "left"},
    lambda: {"file": (io.BytesIO(media_samples.png_bytes()), "a.png"), "description": "bell \x07"},
], ids=["no file", "text", "empty", "bad focus", "control character"])
def test_malformed_uploads_are_422(app, alice, make_data):
    # Made anew for each run: the test client closes the files it sent (sqlite, then postgres).
    data = make_data()
    client, token = alice
    response = client.post("/api/v2/media", data=data, headers=token, content_type="multipart/form-data")
    assert response.status_code == 422 and response.json["error"]
    assert count(app) == 0


def test_garbage_bodies_are_4xx(alice):
    client, token = alice
    for body in (b"\x00\xff", b"{not json"):
        response = client.post("/api/v2/media", data=body, headers=token, content_type="application/json")
        assert 400 <= response.status_code < 500
    response = client.post("/api/v2/media", data=b"--x\r\n", headers=token,
                           content_type="multipart/form-data; boundary=x")
    assert 400 <= response.status_code < 500


def test_one_image_may_pass_max_content_length(make_app):
    app = make_app(MEDIA_MAX_BYTES=2_000_000, MAX_CONTENT_LENGTH=100_000)
    client, token = signed_in(app, "alice")
    photo = media_samples.jpeg_bytes(600, 600, noise=True)
    assert 100_000 < len(photo) < 2_000_000
    for version in (1, 2):  # past MAX_CONTENT_LENGTH: the allowance of one image
        assert upload(client, token, photo, version=version).status_code == 200
    # Other views keep the limit.
    too_long = client.put("/api/v1/media/1", data={"description": "x" * 200_000}, headers=token)
    assert too_long.status_code == 413


def test_too_large_is_413(make_app):
    small = make_app(MEDIA_MAX_BYTES=20_000)
    client, token = signed_in(small, "alice")
    big = media_samples.jpeg_bytes(300, 300, noise=True)
    response = upload(client, token, big)
    assert response.status_code == 413 and "too large" in response.json["error"]
    huge = upload(client, token, b"\xff\xd8\xff" + b"0" * (3 * 1024 * 1024))
    assert huge.status_code == 413 and huge.json == {"error": "Request too large"}
    assert count(small) == 0


def test_v1_upload_the_storage_kept_from_processing_goes_to_the_job(app, alice, held, monkeypatch):
    """The raw file cannot be read back just now: v1 answers with the upload still waiting (url null),
    and the job gets it, as a v2 upload's."""
    from microblog.media_storage import StorageError

    real = media.storage

    class Flaky:
        def __getattr__(self, name):
            return getattr(real(), name)

        def get(self, key):
            raise StorageError("down a moment")

    monkeypatch.setattr(media, "storage", Flaky)
    client, token = alice
    response = upload(client, token, version=1)
    assert response.status_code == 200 and response.json["url"] is None
    assert held == [int(response.json["id"])]
    monkeypatch.setattr(media, "storage", real)
    with app.app_context():
        media.process_media(held[0])
    assert client.get(f"/api/v1/media/{held[0]}", headers=token).status_code == 200


def test_uploads_count_against_the_upload_limit(make_app):
    from microblog.extensions import limiter

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_UPLOADS="2 per hour")
    with app.app_context():
        limiter.reset()  # the memory storage outlives earlier tests' apps in this process
    client, token = signed_in(app, "alice")
    statuses = [upload(client, token, media_samples.png_bytes(10 + i, 10), version=1 + i % 2).status_code
                for i in range(3)]
    assert statuses == [200, 200, 429]
    other, other_token = signed_in(app, "bob")
    assert upload(other, other_token).status_code == 200  # another account has its own allowance
