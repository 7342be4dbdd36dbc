"""Images with MEDIA_STORAGE=s3, end to end against a real S3 server over HTTP (moto's, on loopback):
the form's upload lands in the bucket raw, the job replaces it with the processed files, pages link
to the bucket (or to the CDN in front of it) and allow that origin in their CSP, and deleting a post
or a profile picture deletes the objects."""

from __future__ import annotations

import io
import re
import urllib.request
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from microblog.extensions import db
from microblog.media_storage import S3Storage, make_storage
from microblog.models import FileDeletion, Media, MediaStatus, Post
from tests import media_samples
from tests.factories import find_user, make_user, signed_in_client
from tests.held_jobs import jobs_held

CDN = "https://cdn.example.test/media"


def bucket(settings: dict[str, Any]) -> S3Storage:
    store = make_storage(settings)
    assert isinstance(store, S3Storage)
    return store


def bucket_keys(settings: dict[str, Any]) -> set[str]:
    """Every object in the test's bucket, asked over HTTP."""
    store = bucket(settings)
    listing = store.client().list_objects_v2(Bucket=store.bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def post_with_image(client, body: str, content: bytes, alt: str):
    return client.post("/", data={"post": body, "media-0": (io.BytesIO(content), "photo.jpg"), "alt-0": alt},
                       content_type="multipart/form-data")


def image_origins(response) -> list[str]:
    """The other sites the page's Content-Security-Policy lets images come from."""
    img_src = re.search(r"img-src ([^;]+)", response.headers["Content-Security-Policy"]).group(1).split()
    assert "'self'" in img_src
    return [source for source in img_src if source.startswith(("http:", "https:"))]


def img_sources(page: str) -> list[str]:
    return re.findall(r'<img[^>]* src="([^"]+)"', page)


@pytest.fixture
def s3_app(make_app, s3_storage_config):
    def build(**overrides):
        app = make_app(**{**s3_storage_config, **overrides})
        with app.app_context():
            make_user("alice")
        return app, signed_in_client(app, "alice")
    return build


def test_an_image_goes_to_the_bucket_raw_then_processed_and_is_shown_from_it(s3_app, s3_storage_config):
    app, alice = s3_app(JOBS_BACKEND="thread")
    photo = media_samples.jpeg_bytes(2400, 1600, gps=True)
    with jobs_held(app) as release:
        response = post_with_image(alice, "harbour at dusk", photo, "Boats in a harbour")
        assert response.status_code == 302
        # Before the job: the raw upload alone, under its private key, byte for byte.
        with app.app_context():
            item = db.session.scalars(sa.select(Media)).one()
            assert item.status == MediaStatus.PENDING and item.original_key.startswith("incoming/")
            raw_key = item.original_key
        assert bucket_keys(s3_storage_config) == {raw_key}
        assert bucket(s3_storage_config).get(raw_key) == photo
        release()
    with app.app_context():
        item = db.session.scalars(sa.select(Media)).one()
        assert item.status == MediaStatus.READY and item.original_key is None
        keys = {item.file_key, item.thumbnail_key}
    # After it: the processed files only, incoming/ gone.
    assert bucket_keys(s3_storage_config) == keys
    assert all(key.startswith("m/") for key in keys)

    page = alice.get("/")
    endpoint, name = s3_storage_config["MEDIA_S3_ENDPOINT_URL"], s3_storage_config["MEDIA_S3_BUCKET"]
    thumbnail_url = f"{endpoint}/{name}/{item.thumbnail_key}"
    assert thumbnail_url in img_sources(page.get_data(as_text=True))
    assert f'href="{endpoint}/{name}/{item.file_key}"' in page.get_data(as_text=True)
    assert image_origins(page) == [endpoint]  # the bucket's origin, and no other beside the site's own

    # What the browser would load: the object itself, an image, cacheable for a year, without GPS.
    with urllib.request.urlopen(thumbnail_url, timeout=10) as served:
        assert served.headers["Content-Type"] == "image/jpeg"
        assert "immutable" in served.headers["Cache-Control"]
        stored = served.read()
    with Image.open(io.BytesIO(stored)) as shown:
        assert max(shown.size) <= 480 and not shown.getexif()


def test_links_point_at_the_cdn_and_the_csp_allows_it(s3_app, s3_storage_config):
    app, alice = s3_app(MEDIA_BASE_URL=CDN)
    post_with_image(alice, "through the CDN", media_samples.jpeg_bytes(1000, 1000), "a red square")
    with app.app_context():
        item = db.session.scalars(sa.select(Media)).one()
    assert bucket_keys(s3_storage_config) == {item.file_key, item.thumbnail_key}  # stored in the bucket
    page = alice.get("/explore")
    assert f"{CDN}/{item.thumbnail_key}" in img_sources(page.get_data(as_text=True))
    assert s3_storage_config["MEDIA_S3_ENDPOINT_URL"] not in page.get_data(as_text=True)
    assert image_origins(page) == ["https://cdn.example.test"]


def test_deleting_a_post_deletes_its_objects(s3_app, s3_storage_config):
    app, alice = s3_app()
    post_with_image(alice, "short-lived", media_samples.jpeg_bytes(1200, 800), "a red rectangle")
    post_with_image(alice, "kept", media_samples.png_bytes(64, 64, alpha=True), "a blue square")
    with app.app_context():
        doomed = db.session.scalar(sa.select(Post).where(Post.body == "short-lived"))
        doomed_id, doomed_keys = doomed.id, {key for m in doomed_media(doomed.id) for key in m.keys()}
        kept_keys = {key for m in db.session.scalars(sa.select(Media).where(Media.post_id != doomed_id))
                     for key in m.keys()}
    assert bucket_keys(s3_storage_config) == doomed_keys | kept_keys and len(doomed_keys) == 2
    response = alice.post(f"/post/{doomed_id}/delete")
    assert response.status_code == 302
    assert bucket_keys(s3_storage_config) == kept_keys
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FileDeletion)) == 0


def doomed_media(post_id: int) -> list[Media]:
    return list(db.session.scalars(sa.select(Media).where(Media.post_id == post_id)))


def test_a_profile_picture_round_trip(s3_app, s3_storage_config):
    from microblog.services import profile_media

    app, alice = s3_app()
    endpoint, name = s3_storage_config["MEDIA_S3_ENDPOINT_URL"], s3_storage_config["MEDIA_S3_BUCKET"]
    with app.app_context():
        first = profile_media.set_picture(find_user("alice"), "avatar", media_samples.jpeg_bytes(900, 600))
    assert bucket_keys(s3_storage_config) == {first}
    with Image.open(io.BytesIO(bucket(s3_storage_config).get(first))) as stored:
        assert stored.size == (400, 400)
    assert f"{endpoint}/{name}/{first}" in img_sources(alice.get("/user/alice").get_data(as_text=True))

    with app.app_context():
        second = profile_media.set_picture(find_user("alice"), "avatar", media_samples.png_bytes(500, 500))
        header = profile_media.set_picture(find_user("alice"), "header", media_samples.jpeg_bytes(3000, 1200))
    assert bucket_keys(s3_storage_config) == {second, header}  # the replaced picture went
    with app.app_context():
        profile_media.remove_picture(find_user("alice"), "avatar")
        profile_media.remove_picture(find_user("alice"), "header")
    assert bucket_keys(s3_storage_config) == set()
    page = alice.get("/user/alice").get_data(as_text=True)
    assert not any(src.startswith(endpoint) for src in img_sources(page))
