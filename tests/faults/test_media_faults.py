"""Images when things go wrong: a full disk, files that are not what they claim, the S3 server down.

Every case goes through the composer's form (or the API) of a real app, as a person would post. What
must hold: a post is saved whole or not at all (no post, no media row, no stray file), the person is
told why in a sentence, nothing waits on a dead store longer than its timeouts, and work that could
not be done (processing, deleting files) is done once the store is back, by the periodic sweeps.

"Disk full" without root, as in test_search_index.py: RLIMIT_FSIZE makes every write that would grow
a file past the limit fail with EFBIG (SIGXFSZ ignored), as a full disk fails it with ENOSPC. It is
set in this process only while the step that must fail runs, at a size above the SQLite files (which
this process writes too: they are checkpointed small first) and below the image files.
The S3 server is moto's over HTTP on loopback (tests/s3server.py), stopped and started again on the
same port; moto keeps its buckets in this process, so the objects survive the outage.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, Request
from flask.testing import EnvironBuilder
from PIL import Image

from microblog.extensions import db
from microblog.media_storage import S3Storage, make_storage
from microblog.models import FileDeletion, Media, MediaStatus, Post
from microblog.services import media, media_files, profile_media
from microblog.timeutil import utcnow
from tests import media_samples
from tests.factories import find_user, make_user, signed_in_client
from tests.full_disk import file_size_limit
from tests.held_jobs import jobs_held, run_queued
from tests.s3server import closed_endpoint, s3_config, silent_endpoint, start_s3_server

UNAVAILABLE = "Images cannot be saved right now. Nothing was posted"
# How a card shows an image the job has not processed yet, and one it could not process.
PENDING = "post-media-pending"
FAILED = "This image could not be processed."
# A guard against hanging, not a speed goal (refusals read a header, not the image).
QUICKLY = 5


# -- helpers -----------------------------------------------------------------------------------------

def form_data(body: str, files: tuple[tuple[bytes, str], ...]) -> dict[str, Any]:
    data: dict[str, Any] = {"post": body}
    for slot, (content, alt) in enumerate(files):
        data[f"media-{slot}"] = (io.BytesIO(content), f"upload{slot}.jpg")
        data[f"alt-{slot}"] = alt
    return data


def post_with_images(client, body: str, *files: tuple[bytes, str]):
    return client.post("/", data=form_data(body, files), content_type="multipart/form-data")


def prepared_post(app: Flask, body: str, *files: tuple[bytes, str]) -> Request:
    """The composer's request, encoded now (the test client spools a large body to a file, which
    must happen before the disk fills)."""
    builder = EnvironBuilder(app, path="/", method="POST", data=form_data(body, files),
                             content_type="multipart/form-data")
    return builder.get_request()


def counts(app: Flask) -> tuple[int, int]:
    """How many posts and media rows there are."""
    with app.app_context():
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Post)) or 0,
                db.session.scalar(sa.select(sa.func.count()).select_from(Media)) or 0)


def only_media(app: Flask) -> Media:
    with app.app_context():
        item = db.session.scalars(sa.select(Media)).one()
        db.session.expunge(item)
        return item


def files_in(folder: Path) -> list[str]:
    """Every file under ``folder``, temporary ones too, relative to it."""
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def media_files_of(app: Flask) -> list[str]:
    return files_in(Path(app.config["MEDIA_DIR"]))


def make_stale(app: Flask) -> None:
    """Move every upload back in time, past the point where the sweep retries it."""
    with app.app_context():
        earlier = utcnow() - media.STALE_AFTER - timedelta(minutes=1)
        db.session.execute(sa.update(Media).values(created_at=earlier))
        db.session.commit()


def retry_stale(app: Flask) -> int:
    """The periodic sweep's retry, then the jobs it queued."""
    with app.app_context():
        queued = media.retry_stale()
    if app.config["JOBS_BACKEND"] == "thread":
        run_queued(app)
    return queued


@pytest.fixture
def alice_on(make_app):
    """An app with ``settings`` and alice signed in to it."""
    def build(**settings: Any) -> tuple[Flask, Any]:
        app = make_app(**settings)
        with app.app_context():
            make_user("alice")
        return app, signed_in_client(app, "alice")
    return build


# -- a full disk ---------------------------------------------------------------------------------------

@contextmanager
def disk_full(app: Flask) -> Iterator[int]:
    """No file of this process may grow past a limit (about 1 MiB) until the block ends: the SQLite
    files fit under it (their WAL checkpointed to nothing first), a large photo does not."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.commit()
        database = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    largest = Path(database).stat().st_size if database else 0
    limit = max(1024 * 1024, largest + 512 * 1024)
    with file_size_limit(limit):
        yield limit


# Random pixels do not compress: the upload and its display size are both well over the limit.
BIG_PHOTO = media_samples.jpeg_bytes(1920, 1440, noise=True)


def test_a_full_disk_while_uploading_saves_nothing_and_says_so(alice_on):
    app, alice = alice_on()
    small = media_samples.jpeg_bytes(200, 100)
    # The first image fits, the second does not: neither may be left behind.
    request = prepared_post(app, "two photos", (small, "a red strip"), (BIG_PHOTO, "static"))
    with disk_full(app) as limit:
        assert len(BIG_PHOTO) > limit > len(small)
        response = alice.open(request)
    assert response.status_code == 200  # the form again, with the reason
    assert UNAVAILABLE in response.get_data(as_text=True)
    assert counts(app) == (0, 0)
    assert media_files_of(app) == []  # no raw upload, no part of one, no temporary file
    # Space again: the same post goes through.
    response = post_with_images(alice, "two photos", (small, "a red strip"), (BIG_PHOTO, "static"))
    assert response.status_code == 302
    assert counts(app) == (1, 2)


def test_a_full_disk_while_the_job_writes_leaves_the_upload_waiting(alice_on):
    app, alice = alice_on(JOBS_BACKEND="thread")
    with jobs_held(app) as release:
        assert post_with_images(alice, "noise", (BIG_PHOTO, "static")).status_code == 302
        raw_key = only_media(app).original_key
        assert media_files_of(app) == [raw_key]
        with disk_full(app) as limit:
            release()  # the job runs now, and cannot write the display size
    assert len(BIG_PHOTO) > limit
    waiting = only_media(app)
    assert (waiting.status, waiting.attempts, waiting.original_key) == (MediaStatus.PENDING, 1, raw_key)
    assert media_files_of(app) == [raw_key]  # no processed file, nor a part of one
    assert PENDING in alice.get("/").get_data(as_text=True)

    # Space again: the periodic sweep hands the stale upload to the job, which finishes it.
    make_stale(app)
    assert retry_stale(app) == 1
    done = only_media(app)
    assert done.status == MediaStatus.READY and done.original_key is None
    assert media_files_of(app) == sorted({done.file_key, done.thumbnail_key})
    page = alice.get("/").get_data(as_text=True)
    assert PENDING not in page and f'src="/media/{done.thumbnail_key}"' in page


# -- files that are not what they claim --------------------------------------------------------------

def truncated_jpeg() -> bytes:
    """A whole JPEG header (the right size, the right tables), then half the picture data."""
    whole = media_samples.jpeg_bytes(400, 300, noise=True)
    return whole[: len(whole) // 2]


def png_with_broken_data() -> bytes:
    """A real PNG whose pixel data was damaged in transit (so its checksum no longer matches)."""
    good = media_samples.png_bytes(300, 200)
    start = good.index(b"IDAT") + 4 + 20
    return good[:start] + bytes(b ^ 0xFF for b in good[start:start + 40]) + good[start + 40:]


@pytest.mark.parametrize("make", [truncated_jpeg, png_with_broken_data],
                         ids=["jpeg-truncated", "png-damaged"])
def test_a_corrupt_image_fails_and_its_card_says_so(alice_on, make):
    app, alice = alice_on()
    data = make()
    with Image.open(io.BytesIO(data)) as header:  # the header is fine: the bytes say "image"
        assert header.size in ((400, 300), (300, 200))
    response = post_with_images(alice, "is this broken?", (data, "a picture"))
    assert response.status_code == 302  # the header passed the upload's check; the job reads the rest
    item = only_media(app)
    assert (item.status, item.error) == (MediaStatus.FAILED, "corrupt")
    assert item.original_key is None and item.size_bytes == 0  # nothing kept, nothing counted
    assert media_files_of(app) == []
    page = alice.get("/").get_data(as_text=True)
    assert FAILED in page and "is this broken?" in page


def png_bomb(side: int = 20_000) -> bytes:
    """A real, valid PNG of side x side black pixels (400 million at 20,000): 1 bit each, so it
    compresses to ~60 KB; decoded, it would take 400 MB or more."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    squeeze = zlib.compressobj(9)
    row = bytes(1 + side // 8)  # filter byte 0, then the row's bits
    data = b"".join(squeeze.compress(row * 1000) for _ in range(side // 1000)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def gif_of_frames(count: int) -> bytes:
    """A 1x1 GIF of ``count`` frames, written byte by byte (each frame 10 ms, one red pixel)."""
    frame = (b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # 10 ms
             + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
             + b"\x02\x02\x44\x01\x00")  # LZW, minimum code size 2: clear, pixel 0, end
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\xff\x00\x00\x00\x00\xff"
    return head + frame * count + b"\x3b"


@pytest.mark.parametrize("make, message", [
    (png_bomb, "This image has too many pixels (at most 33,177,600)."),
    (lambda: gif_of_frames(10_000), "This animation has too many frames (at most 1,000)."),
], ids=["decompression-bomb", "10000-frames"])
def test_bombs_are_refused_quickly_through_the_form(alice_on, make, message):
    app, alice = alice_on()
    data = make()
    assert len(data) < app.config["MEDIA_MAX_BYTES"]
    started = time.monotonic()
    response = post_with_images(alice, "harmless, promise", (data, "nothing to see"))
    assert time.monotonic() - started < QUICKLY
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert counts(app) == (0, 0) and media_files_of(app) == []


def test_the_hand_built_files_are_what_they_claim():
    # So the refusals above are for the right reason: Pillow reads the same size and frame count.
    with Image.open(io.BytesIO(png_bomb(2000))) as bomb:
        assert bomb.size == (2000, 2000)
        bomb.load()
        assert bomb.getextrema() == (0, 0)
    with Image.open(io.BytesIO(gif_of_frames(12))) as animation:
        assert animation.n_frames == 12
        assert animation.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


SECRET_DATUM = b"WGS-84-MY-HOUSE"


def photo_with_gps(fmt: str) -> bytes:
    """A photo as a phone sends it: GPS coordinates (and a map datum easy to find in the bytes),
    an orientation, an XMP packet."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the job must apply it before dropping the EXIF
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 29.0), "E", (2.0, 17.0, 40.0)
    gps[0x12] = SECRET_DATUM.decode()
    image = Image.new("RGB", (900, 600), (30, 120, 200))
    for x in range(0, 900, 9):
        image.putpixel((x, x % 600), (255, 255, 255))
    out = io.BytesIO()
    options: dict[str, Any] = {"exif": exif.tobytes()}
    if fmt in ("JPEG", "WEBP"):
        options["xmp"] = b"<x:xmpmeta>" + SECRET_DATUM + b"</x:xmpmeta>"
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_exif_is_in_no_stored_file(alice_on, fmt):
    app, alice = alice_on()
    photo = photo_with_gps(fmt)
    assert SECRET_DATUM in photo and Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)
    assert post_with_images(alice, "guess where", (photo, "a blue wall")).status_code == 302
    with app.app_context():
        profile_media.set_picture(find_user("alice"), "avatar", photo)
        profile_media.set_picture(find_user("alice"), "header", photo)
    item = only_media(app)
    assert item.status == MediaStatus.READY
    assert (item.width, item.height) == (600, 900)  # the orientation was applied first
    stored = media_files_of(app)
    assert len(stored) == 4 and not any(name.startswith("incoming/") for name in stored)
    for name in stored:
        data = (Path(app.config["MEDIA_DIR"]) / name).read_bytes()
        assert SECRET_DATUM not in data and b"Exif" not in data, name
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif(), name
            assert not image.info.get("xmp") and not image.info.get("exif"), name


# -- the S3 server down --------------------------------------------------------------------------------

# Short timeouts, two attempts: a store that does not answer is given up on within a few seconds.
S3_TIMEOUTS = {"MEDIA_S3_CONNECT_TIMEOUT": 0.5, "MEDIA_S3_READ_TIMEOUT": 0.5, "MEDIA_S3_MAX_ATTEMPTS": 2}
# Two attempts, each at most: connect, up to 1 s waiting for "100 Continue" (botocore sends an upload's
# body only after it, or after that second), read; botocore's backoff between them (under 1 s); and
# room for a busy machine.
S3_GIVES_UP_WITHIN = 2 * (0.5 + 1 + 0.5) + 1 + 2


@contextmanager
def s3_unreachable(kind: str) -> Iterator[str]:
    if kind == "closed":
        yield closed_endpoint()
    else:
        with silent_endpoint() as endpoint:
            yield endpoint


@pytest.mark.parametrize("kind", ["closed", "silent"])
def test_s3_down_while_posting_fails_clearly_and_saves_nothing(alice_on, kind):
    with s3_unreachable(kind) as endpoint:
        app, alice = alice_on(**s3_config(endpoint, bucket="microblog-media"), **S3_TIMEOUTS)
        started = time.monotonic()
        response = post_with_images(alice, "lost at sea?", (media_samples.jpeg_bytes(), "a red square"))
        took = time.monotonic() - started
    assert response.status_code == 200
    assert UNAVAILABLE in response.get_data(as_text=True)
    assert took < S3_GIVES_UP_WITHIN
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("kind", ["closed", "silent"])
def test_s3_down_while_uploading_through_the_api_is_a_503(alice_on, kind):
    from tests.factories import basic

    with s3_unreachable(kind) as endpoint:
        app, _ = alice_on(**s3_config(endpoint, bucket="microblog-media"), **S3_TIMEOUTS)
        client = app.test_client()
        token = client.post("/api/tokens", headers=basic("alice")).json["token"]
        started = time.monotonic()
        response = client.post("/api/media", headers={"Authorization": f"Bearer {token}"},
                               data={"file": (io.BytesIO(media_samples.jpeg_bytes()), "a.jpg"),
                                     "description": "a red square"}, content_type="multipart/form-data")
        took = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)
    assert "Images cannot be saved right now" in response.json["message"]
    assert response.headers["Retry-After"]
    assert took < S3_GIVES_UP_WITHIN
    assert counts(app) == (0, 0)


class S3Outage:
    """A moto S3 server of this test's own that can go away and come back on the same address."""

    def __init__(self) -> None:
        self.server, self.endpoint = start_s3_server()
        self.port = int(self.endpoint.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()


@pytest.fixture
def outage(alice_on) -> Iterator[tuple[Flask, Any, S3Outage, S3Storage]]:
    """An app on an S3 server that the test may stop and start, its bucket, and alice signed in."""
    s3 = S3Outage()
    settings = s3_config(s3.endpoint)
    store = make_storage(settings)
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    app, alice = alice_on(**settings, **S3_TIMEOUTS, JOBS_BACKEND="thread")
    try:
        yield app, alice, s3, store
    finally:
        s3.stop()


def objects(store: S3Storage) -> set[str]:
    listing = store.client().list_objects_v2(Bucket=store.bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def test_s3_down_while_the_job_runs_leaves_the_upload_waiting(outage):
    app, alice, s3, store = outage
    with jobs_held(app) as release:
        response = post_with_images(alice, "ahoy", (media_samples.jpeg_bytes(1200, 900), "a red sail"))
        assert response.status_code == 302
        raw_key = only_media(app).original_key
        assert objects(store) == {raw_key}
        s3.stop()
        release()  # the job cannot read the raw upload
    waiting = only_media(app)
    assert (waiting.status, waiting.attempts, waiting.original_key) == (MediaStatus.PENDING, 1, raw_key)
    assert PENDING in alice.get("/").get_data(as_text=True)  # pages still render: links need no S3

    s3.start()
    make_stale(app)
    assert retry_stale(app) == 1
    done = only_media(app)
    assert done.status == MediaStatus.READY
    assert objects(store) == {done.file_key, done.thumbnail_key}  # incoming/ gone


def test_deleting_a_post_while_s3_is_down_deletes_its_files_later(outage):
    app, alice, s3, store = outage
    response = post_with_images(alice, "brief", (media_samples.jpeg_bytes(1200, 900), "a red sail"))
    assert response.status_code == 302
    run_queued(app)
    item = only_media(app)
    keys = {item.file_key, item.thumbnail_key}
    assert objects(store) == keys and len(keys) == 2

    s3.stop()
    started = time.monotonic()
    response = alice.post(f"/post/{item.post_id}/delete")
    assert response.status_code == 302
    run_queued(app)  # the deletion job tried, and failed
    assert time.monotonic() - started < S3_GIVES_UP_WITHIN * 2
    assert counts(app) == (0, 0)  # the post is gone at once
    with app.app_context():
        waiting = db.session.scalars(sa.select(FileDeletion)).all()
        assert {row.key for row in waiting} == keys
        assert all(row.attempts == 1 and row.not_before > utcnow() for row in waiting)

    s3.start()
    assert objects(store) == keys  # still there: nobody deleted them
    with app.app_context():
        assert media_files.delete_files() == 0  # not due yet: the backoff holds
        # The backoff passes.
        db.session.execute(sa.update(FileDeletion).values(not_before=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert media_files.delete_files() == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FileDeletion)) == 0
    assert objects(store) == set()


def test_no_page_loads_anything_from_s3(outage):
    # Cards and profiles only name the objects: with S3 down the pages render as fast as ever.
    app, alice, s3, _ = outage
    post_with_images(alice, "anchored", (media_samples.jpeg_bytes(800, 600), "a red buoy"))
    run_queued(app)
    s3.stop()
    for path in ("/", "/explore", "/user/alice"):
        started = time.monotonic()
        page = alice.get(path)
        assert page.status_code == 200 and time.monotonic() - started < 2
    assert re.search(r'<img[^>]* src="http://127\.0\.0\.1:\d+/', alice.get("/").get_data(as_text=True))


def test_a_hung_store_is_tried_max_attempts_times_in_all(alice_on):
    # MEDIA_S3_MAX_ATTEMPTS counts every try, the first included (botocore's own "max_attempts"
    # would have added it to as many retries).
    accepted: list[socket.socket] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"

        def accept() -> None:
            with contextlib.suppress(OSError):
                while True:
                    accepted.append(listener.accept()[0])  # held open, never answered

        threading.Thread(target=accept, daemon=True).start()
        app, alice = alice_on(**s3_config(endpoint, bucket="microblog-media"), **S3_TIMEOUTS)
        response = post_with_images(alice, "anyone there?", (media_samples.jpeg_bytes(), "a red square"))
        assert UNAVAILABLE in response.get_data(as_text=True)
        assert len(accepted) == S3_TIMEOUTS["MEDIA_S3_MAX_ATTEMPTS"]
    for connection in accepted:
        connection.close()
