"""A real S3-compatible server for tests: moto's standalone server, over HTTP on loopback.

tests/conftest.py registers this module as a plugin, so any test may ask for the fixtures
``s3_endpoint`` (one server for the session) and ``s3_storage_config`` (MEDIA_* settings with a bucket
of its own); ``start_s3_server()`` starts another server, for a test that stops it. moto keeps its
buckets in this process, so every server started here sees the same buckets. moto is imported only
when a server starts, so the plugin costs a run that needs no S3 nothing.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from microblog.media_storage import S3Storage, make_storage

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

# moto accepts any credentials; botocore only needs some to sign with.
ACCESS_KEY = "microblog-test"
SECRET_KEY = "microblog-test-secret"
REGION = "us-east-1"


def start_s3_server() -> tuple[ThreadedMotoServer, str]:
    """Start moto's S3 server on a free loopback port; the caller stops it (``server.stop()``)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def s3_config(endpoint_url: str, bucket: str | None = None, **overrides: Any) -> dict[str, Any]:
    """MEDIA_* settings for an S3 store at ``endpoint_url`` (a fresh bucket name unless one is given)."""
    settings: dict[str, Any] = {
        "MEDIA_STORAGE": "s3",
        "MEDIA_S3_BUCKET": bucket or f"microblog-media-{uuid.uuid4().hex[:12]}",
        "MEDIA_S3_ENDPOINT_URL": endpoint_url,
        "MEDIA_S3_REGION": REGION,
        "MEDIA_S3_ACCESS_KEY": ACCESS_KEY,
        "MEDIA_S3_SECRET_KEY": SECRET_KEY,
        "MEDIA_BASE_URL": "",
    }
    settings.update(overrides)
    return settings


def closed_endpoint() -> str:
    """An endpoint on a loopback port where nothing listens (connections are refused at once)."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (a hung server: only timeouts help)."""
    with closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        host, port = listener.getsockname()
        yield f"http://{host}:{port}"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of an S3 server running for the whole session."""
    server, endpoint_url = start_s3_server()
    try:
        yield endpoint_url
    finally:
        server.stop()


@pytest.fixture
def s3_storage_config(s3_endpoint: str) -> dict[str, Any]:
    """MEDIA_* overrides pointing at the session's server, with a new bucket created for this test."""
    settings = s3_config(s3_endpoint)
    store = make_storage(settings)
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    return settings
