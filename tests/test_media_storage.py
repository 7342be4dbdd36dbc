"""Media storage: key shapes, local files (atomic, kept in their folder), a real S3 server over HTTP."""

from __future__ import annotations

import hashlib
import os
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from microblog.media_storage import (
    LocalStorage,
    MissingFile,
    S3Storage,
    Storage,
    StorageError,
    init_app,
    is_valid_key,
    key_for,
    make_storage,
    storage,
)
from tests import full_disk
from tests.s3server import closed_endpoint, s3_config, silent_endpoint

DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
DIGEST = hashlib.sha256(DATA).hexdigest()
KEY = key_for(DIGEST, "png")
RAW_KEY = key_for(DIGEST, None, public=False)
# A key that is not where it pretends, or not a key at all.
BAD_KEYS = [
    "../x",
    "m/../../etc/passwd",
    "/etc/passwd",
    f"/{KEY}",
    f"m/{DIGEST[:2]}/../../{DIGEST}.png",
    f"m/{DIGEST[:2]}/{DIGEST}.svg",
    f"m/{DIGEST[:2]}/{DIGEST}.html",
    f"m/{DIGEST[:2]}/{DIGEST.upper()}.png",
    f"m/{DIGEST[:2]}/{DIGEST[:63]}.png",
    f"x/{DIGEST[:2]}/{DIGEST}.png",
    f"m/{DIGEST[:3]}/{DIGEST}.png",
    f"{KEY}\n",
    f"{KEY}/",
    KEY.replace("/", "\\"),
    f"m//{DIGEST}.png",
    "",
]


# -- keys ---------------------------------------------------------------------------------------------

def test_key_for_names_public_and_private_files():
    assert KEY == f"m/{DIGEST[:2]}/{DIGEST}.png"
    assert RAW_KEY == f"incoming/{DIGEST[:2]}/{DIGEST}"
    assert key_for(DIGEST, None) == f"m/{DIGEST[:2]}/{DIGEST}"
    assert all(is_valid_key(key) for key in (KEY, RAW_KEY, f"m/{DIGEST[:2]}/{DIGEST}-thumb.webp"))


@pytest.mark.parametrize("digest, ext", [(DIGEST[:63], "png"), (DIGEST.upper(), "png"),
                                         ("../" + DIGEST[3:], "png"), (DIGEST, "svg"), (DIGEST, ".png"),
                                         (DIGEST, "png/../x")])
def test_key_for_refuses_what_is_not_a_digest_or_a_media_extension(digest, ext):
    with pytest.raises(ValueError):
        key_for(digest, ext)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_malformed_key_is_not_valid(key):
    assert not is_valid_key(key)


# -- local files --------------------------------------------------------------------------------------

@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", "/media")


def test_local_round_trip(local: LocalStorage, tmp_path: Path):
    assert isinstance(local, Storage)
    assert not local.exists(KEY)
    local.put(KEY, DATA, "image/png")
    assert local.exists(KEY)
    assert local.get(KEY) == DATA
    assert local.path(KEY) == tmp_path / "media" / "m" / DIGEST[:2] / f"{DIGEST}.png"
    assert local.path(KEY).read_bytes() == DATA
    # nginx may serve the folder as another user; and nothing but the file is left in it.
    assert stat.S_IMODE(local.path(KEY).stat().st_mode) == 0o644
    assert os.listdir(local.path(KEY).parent) == [f"{DIGEST}.png"]
    assert local.url(KEY) == f"/media/{KEY}"
    assert LocalStorage(tmp_path, "https://cdn.example/media/").url(KEY) == f"https://cdn.example/media/{KEY}"

    local.delete(KEY)
    assert not local.exists(KEY)
    local.delete(KEY)
    with pytest.raises(MissingFile) as missing:
        local.get(KEY)
    assert isinstance(missing.value, StorageError) and isinstance(missing.value, KeyError)
    assert KEY in str(missing.value)


def test_local_keeps_private_uploads_apart(local: LocalStorage):
    local.put(RAW_KEY, b"raw bytes", "application/octet-stream")
    local.put(KEY, DATA, "image/png")
    assert local.get(RAW_KEY) == b"raw bytes"
    assert local.path(RAW_KEY).parent.parent.name == "incoming"


@pytest.mark.parametrize("key", BAD_KEYS)
def test_local_refuses_a_malformed_key_everywhere(local: LocalStorage, tmp_path: Path, key: str):
    for call in (lambda: local.put(key, b"x", "image/png"), lambda: local.get(key), lambda: local.delete(key),
                 lambda: local.exists(key), lambda: local.url(key), lambda: local.path(key)):
        with pytest.raises(ValueError):
            call()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def file_size_limit() -> Iterator[int]:
    """Writes past 64 KiB fail in this process (EFBIG), as on a full disk, until the test ends."""
    with full_disk.file_size_limit(64 * 1024) as limit:
        yield limit


def test_a_put_that_fails_half_way_leaves_nothing(local: LocalStorage, file_size_limit: int):
    big = os.urandom(file_size_limit * 3)
    key = key_for(hashlib.sha256(big).hexdigest(), "jpg")
    with pytest.raises(StorageError) as failed:
        local.put(key, big, "image/jpeg")
    assert key in str(failed.value)
    assert not local.exists(key)
    # No temporary file either: the folder the write started in is empty.
    assert list(local.path(key).parent.iterdir()) == []


def test_a_failed_put_never_shows_a_part_under_the_final_name(local: LocalStorage, file_size_limit: int):
    # The same key written again (as a retried job does) and failing: readers still get the whole file.
    local.put(KEY, DATA, "image/png")
    with pytest.raises(StorageError):
        local.put(KEY, DATA + os.urandom(file_size_limit * 2), "image/png")
    assert local.get(KEY) == DATA
    assert os.listdir(local.path(KEY).parent) == [f"{DIGEST}.png"]


def test_a_put_the_folder_refuses_cleans_up(local: LocalStorage):
    local.path(KEY).mkdir(parents=True)  # something in the way: os.replace cannot put a file there
    with pytest.raises(StorageError):
        local.put(KEY, DATA, "image/png")
    assert os.listdir(local.path(KEY).parent) == [f"{DIGEST}.png"]
    assert local.path(KEY).is_dir() and not local.exists(KEY)


# -- configuration ------------------------------------------------------------------------------------

def _app(tmp_path: Path, **settings: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(INSTANCE_DIR=str(tmp_path / "instance"), **settings)
    init_app(app)
    return app


def test_init_app_defaults_to_local_files_in_the_instance_folder(tmp_path: Path):
    app = _app(tmp_path)
    with app.app_context():
        store = storage()
    assert isinstance(store, LocalStorage)
    assert store.root == tmp_path / "instance" / "media"
    assert store.url(KEY) == f"/media/{KEY}"


def test_init_app_reads_the_media_settings(tmp_path: Path):
    app = _app(tmp_path, MEDIA_STORAGE="local", MEDIA_DIR=str(tmp_path / "elsewhere"),
               MEDIA_BASE_URL="https://cdn.example")
    store = app.extensions["media_storage"]
    assert store.root == tmp_path / "elsewhere" and store.url(KEY) == f"https://cdn.example/{KEY}"


def test_init_app_builds_an_s3_store_without_connecting(tmp_path: Path):
    # Nothing listens at the endpoint: creating the app must not notice.
    endpoint = closed_endpoint()
    app = _app(tmp_path, **s3_config(endpoint, bucket="microblog-media"))
    store = app.extensions["media_storage"]
    assert isinstance(store, S3Storage) and store.bucket == "microblog-media"
    assert store.url(KEY) == f"{endpoint}/microblog-media/{KEY}"


@pytest.mark.parametrize("settings", [{"MEDIA_STORAGE": "ftp"},
                                      {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": ""}])
def test_init_app_refuses_an_unusable_configuration(tmp_path: Path, settings: dict[str, str]):
    with pytest.raises(ValueError):
        _app(tmp_path, **settings)


# -- S3 over HTTP -------------------------------------------------------------------------------------

def _s3(settings: dict[str, Any]) -> S3Storage:
    store = make_storage(settings)
    assert isinstance(store, S3Storage)
    return store


def test_s3_round_trip(s3_storage_config: dict[str, Any]):
    store = _s3(s3_storage_config)
    assert isinstance(store, Storage)
    assert not store.exists(KEY)
    store.put(KEY, DATA, "image/png")
    assert store.exists(KEY)
    assert store.get(KEY) == DATA
    store.delete(KEY)
    assert not store.exists(KEY)
    store.delete(KEY)
    with pytest.raises(MissingFile):
        store.get(KEY)


def test_s3_stores_the_headers_a_browser_needs(s3_storage_config: dict[str, Any]):
    store = _s3(s3_storage_config)
    store.put(KEY, DATA, "image/png")
    store.put(RAW_KEY, b"raw", "application/octet-stream")

    public = store.head(KEY)
    assert public["ContentType"] == "image/png"
    assert public["CacheControl"] == "public, max-age=31536000, immutable"
    assert public["ContentDisposition"] == "inline"
    assert public["ContentLength"] == len(DATA)
    # A raw upload is nobody's to cache.
    assert "CacheControl" not in store.head(RAW_KEY)

    # The address url() gives is the object itself, with its headers, fetched like a browser would.
    bucket = s3_storage_config["MEDIA_S3_BUCKET"]
    assert store.url(KEY) == f"{s3_storage_config['MEDIA_S3_ENDPOINT_URL']}/{bucket}/{KEY}"
    with urllib.request.urlopen(store.url(KEY), timeout=5) as response:
        assert response.read() == DATA
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # ensure_bucket let anyone read "m/" and nobody else read "incoming/".
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(store.url(RAW_KEY), timeout=5)
    assert refused.value.code == 403


def test_s3_url_points_at_the_cdn_when_one_is_set(s3_storage_config: dict[str, Any]):
    store = _s3({**s3_storage_config, "MEDIA_BASE_URL": "https://cdn.example/media/"})
    assert store.url(KEY) == f"https://cdn.example/media/{KEY}"
    assert _s3({**s3_storage_config, "MEDIA_S3_ENDPOINT_URL": ""}).url(KEY) == (
        f"https://s3.us-east-1.amazonaws.com/{s3_storage_config['MEDIA_S3_BUCKET']}/{KEY}")


def test_ensure_bucket_is_idempotent_and_the_app_never_creates_one(s3_storage_config: dict[str, Any]):
    store = _s3(s3_storage_config)
    store.ensure_bucket()
    store.put(KEY, DATA, "image/png")
    assert store.get(KEY) == DATA

    absent = _s3({**s3_storage_config, "MEDIA_S3_BUCKET": s3_storage_config["MEDIA_S3_BUCKET"] + "-absent"})
    with pytest.raises(StorageError) as failed:
        absent.put(KEY, DATA, "image/png")
    assert not isinstance(failed.value, MissingFile)
    with pytest.raises(StorageError) as failed:
        absent.get(KEY)
    assert not isinstance(failed.value, MissingFile) and "NoSuchBucket" in str(failed.value)


@pytest.mark.parametrize("key", ["../x", "m/../../etc/passwd", f"/{KEY}", f"{KEY}\n"])
def test_s3_refuses_a_malformed_key_before_asking(key: str):
    store = _s3(s3_config(closed_endpoint()))  # a request would fail with StorageError, not ValueError
    for call in (lambda: store.put(key, b"x", "image/png"), lambda: store.get(key), lambda: store.delete(key),
                 lambda: store.exists(key), lambda: store.url(key)):
        with pytest.raises(ValueError):
            call()


# -- S3 down ------------------------------------------------------------------------------------------

# A guard against hanging, not a speed goal: three attempts with backoff fit well inside it.
NEVER_HANGS = 15


def _fails_quickly(call) -> StorageError:
    started = time.monotonic()
    with pytest.raises(StorageError) as failed:
        call()
    assert time.monotonic() - started < NEVER_HANGS
    assert not isinstance(failed.value, MissingFile)
    return failed.value


@pytest.mark.slow
def test_s3_down_fails_with_storage_error():
    endpoint = closed_endpoint()
    store = _s3(s3_config(endpoint, bucket="microblog-media"))
    error = _fails_quickly(lambda: store.put(KEY, DATA, "image/png"))
    assert endpoint in str(error) and KEY in str(error)
    _fails_quickly(lambda: store.get(KEY))
    _fails_quickly(lambda: store.exists(KEY))


@pytest.mark.slow
def test_s3_that_never_answers_times_out_with_storage_error():
    with silent_endpoint() as endpoint:
        store = _s3(s3_config(endpoint, bucket="microblog-media", MEDIA_S3_READ_TIMEOUT=0.5))
        error = _fails_quickly(lambda: store.get(KEY))
    assert "timeout" in str(error).lower()
