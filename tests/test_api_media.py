"""Images through the JSON API: upload (multipart), poll, describe, attach to a post by id, and the images
of posts in every post representation (without a query per post); the refusals, the quota, the rate
limit, the storage being down, and the OpenAPI document."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from microblog import jobs
from microblog.extensions import db, limiter
from microblog.models import Media, Post
from microblog.services import media, moderation, posts
from microblog.timeutil import utcnow
from tests import media_samples
from tests.factories import find_user, make_follow, make_user, token_for
from tests.test_query_counts import MAX_STATEMENTS, counting

SITE = "http://microblog.test"  # TestConfig.SITE_URL: media URLs in the API are absolute


@pytest.fixture
def users(app) -> None:
    with app.app_context():
        make_user("alice")
        make_user("bob")


@pytest.fixture
def alice(client, users) -> dict[str, str]:
    return token_for(client, "alice")


@pytest.fixture
def bob(client, users) -> dict[str, str]:
    return token_for(client, "bob")


def upload(client, headers: dict[str, str], content: bytes | None = None, description: str | None = None,
           name: str = "photo.jpg"):
    data: dict = {"file": (io.BytesIO(media_samples.jpeg_bytes() if content is None else content), name)}
    if description is not None:
        data["description"] = description
    return client.post("/api/media", data=data, headers=headers, content_type="multipart/form-data")


@pytest.fixture
def held(monkeypatch) -> list[int]:
    """Uploads wait for the worker (their processing jobs are held here, by media id); other jobs run."""
    waiting: list[int] = []
    enqueue = jobs.enqueue

    def hold(func, *args, **kwargs):
        if func is media.process_media:
            waiting.append(args[0])
            return "held"
        return enqueue(func, *args, **kwargs)

    monkeypatch.setattr(jobs, "enqueue", hold)
    return waiting


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def stored_files(app) -> list[Path]:
    return sorted(path for path in Path(app.config["MEDIA_DIR"]).rglob("*") if path.is_file())


# -- upload, poll, describe -------------------------------------------------------------------------
def test_upload_is_accepted_processed_and_served(app, client, alice):
    photo = media_samples.jpeg_bytes(3000, 2000, gps=True)
    response = upload(client, alice, photo, "A red sky over the sea")
    assert response.status_code == 202, response.json
    body = response.json
    assert response.headers["Location"] == f"/api/media/{body['id']}"
    assert body["type"] == "image" and body["description"] == "A red sky over the sea"
    assert body["post_id"] is None and body["hidden"] is False and body["error"] is None
    # The test app runs jobs at once: the answer already shows the processed files.
    assert body["status"] == "ready"
    assert (body["width"], body["height"]) == (1920, 1280)
    assert re.fullmatch(r"#[0-9a-f]{6}", body["colour"]) and len(body["blurhash"]) >= 6
    for field in ("url", "preview_url"):
        assert body[field].startswith(f"{SITE}/media/m/"), body[field]
    with app.app_context():
        item = db.session.get(Media, body["id"])
        assert body["url"].endswith(item.file_key) and body["preview_url"].endswith(item.thumbnail_key)
    # The file the URL names is served, and it carries no metadata (the GPS position is gone).
    served = client.get(body["url"].removeprefix(SITE))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (1920, 1280) and not image.getexif()
    again = client.get(f"/api/media/{body['id']}", headers=alice)
    assert again.status_code == 200 and again.json == body


def test_poll_while_the_job_has_not_run(app, client, alice, held):
    response = upload(client, alice, media_samples.png_bytes(40, 30), "a blue square")
    assert response.status_code == 202
    pending = response.json
    assert pending["status"] == "pending" and pending["url"] is None and pending["preview_url"] is None
    assert (pending["width"], pending["height"]) == (40, 30)  # the upload's own size until processed
    assert held == [pending["id"]]
    polled = client.get(f"/api/media/{pending['id']}", headers=alice)
    assert polled.status_code == 202 and polled.json["status"] == "pending"
    assert polled.headers["Retry-After"]
    # The worker gets to it.
    with app.app_context():
        media.process_media(pending["id"])
    done = client.get(f"/api/media/{pending['id']}", headers=alice)
    assert done.status_code == 200 and done.json["status"] == "ready"
    assert done.json["url"].startswith(f"{SITE}/media/m/")


def test_an_image_the_job_cannot_decode_fails_with_a_reason(app, client, alice, held):
    # The header is a real PNG's (the upload check reads only that); the pixel data is cut short.
    broken = media_samples.png_bytes(200, 200)[:-40]
    response = upload(client, alice, broken, "x")
    assert response.status_code == 202, response.json
    with app.app_context():
        media.process_media(held[0])
    failed = client.get(f"/api/media/{held[0]}", headers=alice)
    assert failed.status_code == 200
    assert failed.json["status"] == "failed" and failed.json["url"] is None
    assert "could not be read" in failed.json["error"]


def test_describe_until_posted_then_403(client, alice):
    item = upload(client, alice, description="first words").json
    changed = client.patch(f"/api/media/{item['id']}", json={"description": "  better words \r\n"},
                           headers=alice)
    assert changed.status_code == 200 and changed.json["description"] == "better words"
    cleared = client.patch(f"/api/media/{item['id']}", json={"description": None}, headers=alice)
    assert cleared.status_code == 200 and cleared.json["description"] is None
    too_long = client.patch(f"/api/media/{item['id']}", json={"description": "x" * 1501}, headers=alice)
    assert too_long.status_code == 422 and too_long.json["errors"]["json"]["description"]
    posted = client.post("/api/posts", json={"body": "look", "media_ids": [item["id"]]}, headers=alice)
    assert posted.status_code == 201, posted.json
    late = client.patch(f"/api/media/{item['id']}", json={"description": "too late"}, headers=alice)
    assert late.status_code == 403
    assert "until it is posted" in late.json["message"]


def test_someone_elses_upload_is_a_404_everywhere(app, client, alice, bob):
    item = upload(client, alice).json
    assert client.get(f"/api/media/{item['id']}", headers=bob).status_code == 404
    patched = client.patch(f"/api/media/{item['id']}", json={"description": "mine now"}, headers=bob)
    assert patched.status_code == 404
    stolen = client.post("/api/posts", json={"body": "stolen", "media_ids": [item["id"]]}, headers=bob)
    assert stolen.status_code == 422 and stolen.json["errors"]["json"]["media_ids"]
    assert count(app, Post) == 0
    assert client.get(f"/api/media/{item['id'] + 100}", headers=alice).status_code == 404


def test_every_media_call_needs_a_token(client, alice):
    item = upload(client, alice).json
    assert upload(client, {}).status_code == 401
    assert client.get(f"/api/media/{item['id']}").status_code == 401
    assert client.patch(f"/api/media/{item['id']}", json={"description": "x"}).status_code == 401


# -- attaching --------------------------------------------------------------------------------------
def test_attach_in_order_and_an_upload_only_once(app, client, alice):
    photos = [media_samples.jpeg_bytes(30 + i, 20, (i * 60, 0, 0)) for i in range(3)]
    ids = [upload(client, alice, photo, f"image {i}").json["id"] for i, photo in enumerate(photos)]
    chosen = [ids[2], ids[0]]
    response = client.post("/api/posts", json={"body": "two of three", "media_ids": chosen}, headers=alice)
    assert response.status_code == 201, response.json
    shown = response.json["media_attachments"]
    assert [item["id"] for item in shown] == chosen
    assert [item["description"] for item in shown] == ["image 2", "image 0"]
    assert all(item["post_id"] == response.json["id"] and item["url"] for item in shown)
    again = client.post("/api/posts", json={"body": "again", "media_ids": [ids[0]]}, headers=alice)
    assert again.status_code == 422 and "not one of your unposted uploads" in again.json["message"]
    twice = client.post("/api/posts", json={"body": "twice", "media_ids": [ids[1], ids[1]]}, headers=alice)
    assert twice.status_code == 422
    assert count(app, Post) == 1


def test_more_images_than_a_post_takes_are_refused(app, client, alice):
    ids = [upload(client, alice, media_samples.png_bytes(10 + i, 10)).json["id"] for i in range(5)]
    response = client.post("/api/posts", json={"body": "five", "media_ids": ids}, headers=alice)
    assert response.status_code == 422 and "at most 4 images" in response.json["message"]
    assert count(app, Post) == 0


def test_a_post_without_images_has_an_empty_list(client, alice):
    response = client.post("/api/posts", json={"body": "just words"}, headers=alice)
    assert response.status_code == 201 and response.json["media_attachments"] == []
    assert client.get(response.headers["Location"]).json["media_attachments"] == []


# -- refusals -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("content, name", [
    (media_samples.SVG, "drawing.svg"),
    (media_samples.HTML, "page.jpg"),
    (b"%PDF-1.7\n1 0 obj", "paper.png"),
])
def test_files_that_are_not_images_are_422_and_nothing_is_stored(app, client, alice, content, name):
    response = upload(client, alice, content, name=name)
    assert response.status_code == 422
    assert "not an image we accept" in response.json["message"]
    assert response.json["errors"] == {"form_and_files": {"file": [response.json["message"]]}}
    assert count(app, Media) == 0 and stored_files(app) == []


def test_a_file_over_the_size_limit_is_413(make_app):
    app = make_app(MEDIA_MAX_BYTES=20_000)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    headers = token_for(client)
    big = media_samples.jpeg_bytes(300, 300, noise=True)
    assert len(big) > 20_000
    response = upload(client, headers, big)
    assert response.status_code == 413 and response.is_json
    assert "too large" in response.json["message"]
    assert response.json["errors"]["form_and_files"]["file"]
    # Far larger than a request may be: refused before the body is read, in the same JSON shape.
    huge = upload(client, headers, b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024))
    assert huge.status_code == 413 and set(huge.json) >= {"error", "message"}
    assert count(app, Media) == 0 and stored_files(app) == []


def test_the_quota_is_422(make_app):
    photo = media_samples.jpeg_bytes(400, 300)
    app = make_app(MEDIA_QUOTA_BYTES=len(photo) + 10)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    headers = token_for(client)
    assert upload(client, headers, photo).status_code == 202
    response = upload(client, headers, media_samples.jpeg_bytes(400, 300, (0, 0, 255)))
    assert response.status_code == 422 and "storage for images is full" in response.json["message"]
    assert count(app, Media) == 1


def test_the_storage_being_down_is_503_and_nothing_is_saved(make_app, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    app = make_app(MEDIA_DIR=str(blocked))
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    response = upload(client, token_for(client))
    assert response.status_code == 503 and response.is_json
    assert "cannot be saved right now" in response.json["message"]
    assert response.headers["Retry-After"]
    assert count(app, Media) == 0


@pytest.mark.parametrize("fields", [
    {},  # no file at all
    {"file": "not a file part"},  # a text field where the file goes
    {"file": b""},
    {"file": media_samples.png_bytes(), "colour": "red"},  # an unknown field
    {"file": media_samples.png_bytes(), "description": "bell \x07"},
])
def test_malformed_uploads_are_422(app, client, alice, fields):
    data = {name: (io.BytesIO(value), "a.png") if isinstance(value, bytes) else value
            for name, value in fields.items()}
    response = client.post("/api/media", data=data, headers=alice, content_type="multipart/form-data")
    assert response.status_code == 422, response.json
    assert response.is_json and response.json["message"]
    assert count(app, Media) == 0


def test_uploads_are_rate_limited_per_account(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_UPLOADS="2 per hour")
    with app.app_context():
        limiter.reset()  # the memory storage outlives earlier tests' apps in this process
        make_user("alice")
        make_user("bob")
    client = app.test_client()
    alice, bob = token_for(client, "alice"), token_for(client, "bob")
    statuses = [upload(client, alice, media_samples.png_bytes(10 + i, 10)).status_code for i in range(3)]
    assert statuses == [202, 202, 429]
    assert upload(client, bob).status_code == 202  # another account has its own allowance


def test_a_suspended_account_cannot_upload(app, client, alice):
    with app.app_context():
        find_user("alice").suspended_at = utcnow()
        db.session.commit()
    assert upload(client, alice).status_code == 403


# -- images in post representations ---------------------------------------------------------------
def _posts_with_images(app, username: str, count_: int, *, start=None) -> list[int]:
    """``count_`` posts by ``username``, each with one processed image, through the services."""
    with app.app_context():
        author = find_user(username)
        made = []
        for i in range(count_):
            item = media.upload_media(author, media_samples.png_bytes(8 + i % 40, 8), f"alt {i}")
            post = posts.publish_post(author, f"picture {i}", media_ids=[item.id])
            if start is not None:
                post.timestamp = start + timedelta(minutes=i)
            made.append(post.id)
        db.session.commit()
        return made


def test_images_in_lists_single_posts_threads_and_reactions(app, client, alice, bob):
    [with_image] = _posts_with_images(app, "alice", 1)
    plain = client.post("/api/posts", json={"body": "no picture"}, headers=alice).json["id"]
    reply = client.post("/api/posts", json={"body": "nice", "in_reply_to_id": with_image}, headers=bob).json
    with app.app_context():
        make_follow(db.session.get(Post, reply["id"]).author, db.session.get(Post, with_image).author)

    def images(item: dict) -> list[str | None]:
        return [m["description"] for m in item["media_attachments"]]

    alice_id = client.get(f"/api/posts/{plain}").json["author"]["id"]
    lists = (("/api/posts", {}), (f"/api/users/{alice_id}/posts", {}), ("/api/timeline", bob))
    for path, headers in lists:
        items = {item["id"]: item for item in client.get(path, headers=headers).json["items"]}
        assert images(items[with_image]) == ["alt 0"] and images(items[plain]) == [], path
    assert images(client.get(f"/api/posts/{with_image}").json) == ["alt 0"]
    context = client.get(f"/api/posts/{reply['id']}/context").json
    assert [images(item) for item in context["ancestors"]] == [["alt 0"]]
    liked = client.post(f"/api/posts/{with_image}/bookmark", headers=bob).json
    assert images(liked) == ["alt 0"]
    assert images(client.get("/api/bookmarks", headers=bob).json["items"][0]) == ["alt 0"]


def test_an_image_hidden_by_the_moderators_has_no_file_in_the_api(app, client, alice):
    [post_id] = _posts_with_images(app, "alice", 1)
    with app.app_context():
        moderator = make_user("mod", role="moderator")
        moderation.hide_media(moderator, db.session.get(Post, post_id), "not for everyone")
    [shown] = client.get(f"/api/posts/{post_id}").json["media_attachments"]
    assert shown["hidden"] is True
    assert shown["url"] is None and shown["preview_url"] is None and shown["description"] is None
    assert shown["blurhash"] is None


@pytest.mark.parametrize("path", ["/api/posts", "/api/users/{author}/posts", "/api/timeline"])
def test_a_page_full_of_images_costs_one_statement_more_whatever_its_size(app, client, users, path):
    start = utcnow() - timedelta(days=1)
    with app.app_context():
        author_id = make_user("painter").id
        make_follow(find_user("alice"), find_user("painter"))
    _posts_with_images(app, "painter", 30, start=start)
    headers = token_for(client, "alice")
    statements: dict[int, int] = {}
    for per_page in (5, 25):
        url = path.format(author=author_id) + f"?per_page={per_page}"
        assert client.get(url, headers=headers).status_code == 200  # warm the caches a process keeps
        with counting(app) as seen:
            response = client.get(url, headers=headers)
        assert all(item["media_attachments"] for item in response.json["items"])
        assert len(response.json["items"]) == per_page
        statements[per_page] = len(seen)
        assert len(seen) <= MAX_STATEMENTS, seen
        assert sum("FROM media" in statement for statement in seen) == 1, seen
    assert statements[5] == statements[25]


# -- the OpenAPI document -------------------------------------------------------------------------
def test_the_media_endpoints_are_documented_with_a_multipart_body(client):
    spec = client.get("/api/openapi.json").json
    upload_op = spec["paths"]["/api/media"]["post"]
    body = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    schema = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    file_part = schema["properties"]["file"]
    assert (file_part["type"], file_part["format"]) == ("string", "binary")
    assert schema["required"] == ["file"] and "description" in schema["properties"]
    assert {"202", "401", "413", "422", "429", "503"} <= set(upload_op["responses"])
    assert {"get", "patch"} <= set(spec["paths"]["/api/media/{media_id}"])
    media_schema = spec["components"]["schemas"]["Media"]
    assert {"id", "type", "status", "url", "preview_url", "description", "width", "height", "blurhash",
            "colour", "created_at", "post_id"} <= set(media_schema["required"])
    post = spec["components"]["schemas"]["Post"]
    assert "media_attachments" in post["required"]
    assert post["properties"]["media_attachments"]["items"] == {"$ref": "#/components/schemas/Media"}
    assert spec["components"]["schemas"]["NewPost"]["properties"]["media_ids"]["type"] == "array"
