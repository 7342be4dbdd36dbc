"""Static files under content-hashed names with year-long caching, and responses sent compressed."""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import timedelta
from pathlib import Path

import brotli
import pytest
from flask import url_for

from microblog import assets
from microblog.timeutil import utcnow
from tests.factories import make_post, make_user

STATIC = Path(__file__).parent.parent / "microblog" / "static"
ASSET_URL = re.compile(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"')
HASHED = re.compile(r"\.[0-9a-f]{8}\.[a-z0-9]+$")
CSRF = re.compile(rb'name="csrf_token" (?:type="hidden" )?value="[^"]*"')


def decode(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.data)
    if encoding == "gzip":
        return gzip.decompress(response.data)
    assert encoding is None
    return response.data


@pytest.fixture
def posts(app):
    with app.app_context():
        author = make_user("ada", about_me="Writes <b>bold</b> things")
        author.created_at = author.last_seen = utcnow() - timedelta(days=3)
        # Days old: "3 days ago" reads the same on every request (seconds would change between two).
        for number in range(30):
            make_post(author, f"post number {number} " + "with some words " * 8, utcnow() - timedelta(days=3))


@pytest.mark.parametrize("path", ["/explore", "/auth/login", "/user/ada", "/api/docs"])
def test_every_static_url_in_a_page_carries_the_file_hash(client, posts, path):
    html = client.get(path).get_data(as_text=True)
    urls = ASSET_URL.findall(html)
    assert urls
    for url in urls:
        assert HASHED.search(url), url
        reply = client.get(url)
        assert reply.status_code == 200, url
        assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        digest = hashlib.sha256(reply.data).hexdigest()
        assert url.rsplit(".", 2)[1] == digest[:8], "the name's hash is the served bytes' hash"


def test_url_for_names_the_app_and_bootstrap_files_by_hash(app):
    css = (STATIC / "microblog.css").read_bytes()
    with app.test_request_context():
        assert url_for("static", filename="microblog.css") == (
            f"/static/microblog.{hashlib.sha256(css).hexdigest()[:8]}.css")
        assert HASHED.search(url_for("bootstrap.static", filename="css/bootstrap.min.css"))
        # A missing file or one without an extension keeps its name (and is a 404 or served as it is).
        assert url_for("static", filename="missing.css") == "/static/missing.css"
        assert url_for("static", filename="vendor/bootstrap/LICENSE") == "/static/vendor/bootstrap/LICENSE"


def test_an_edited_file_gets_a_new_name_without_a_restart(tmp_path):
    (tmp_path / "site.css").write_text("body { color: red }")
    first = assets.hashed_name(str(tmp_path), "site.css")
    (tmp_path / "site.css").write_text("body { color: blue; margin: 0 }")
    second = assets.hashed_name(str(tmp_path), "site.css")
    assert first != second and HASHED.search(first) and HASHED.search(second)
    assert assets.resolve(str(tmp_path), second) == ("site.css", True)
    assert assets.resolve(str(tmp_path), first) == ("site.css", False)  # an old page's URL


def test_plain_and_outdated_names_are_served_with_a_short_lifetime(client):
    body = (STATIC / "microblog.css").read_bytes()
    for url in ("/static/microblog.css", "/static/microblog.00000000.css"):
        reply = client.get(url)
        assert reply.status_code == 200 and reply.data == body
        assert reply.headers["Cache-Control"] == "public, max-age=3600"
        assert reply.mimetype == "text/css"


@pytest.mark.parametrize("url", [
    "/static/nothing.css", "/static/nothing.0123abcd.css", "/static/../config.py", "/static/%2e%2e/config.py",
    "/static/vendor", "/bootstrap/static/../__init__.py",
])
def test_missing_files_and_escapes_are_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("encoding", ["br", "gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5"])
def test_static_text_is_sent_compressed_and_decodes_to_the_file(client, app, encoding):
    with app.test_request_context():
        url = url_for("static", filename="microblog.css")
    reply = client.get(url, headers={"Accept-Encoding": encoding})
    expected = "gzip" if encoding == "gzip" else "br"
    assert reply.headers["Content-Encoding"] == expected
    assert "Accept-Encoding" in reply.headers["Vary"]
    assert decode(reply) == (STATIC / "microblog.css").read_bytes()
    assert int(reply.headers["Content-Length"]) == len(reply.data)
    # Each encoding is its own representation, with its own validator; a current copy is a 304.
    assert reply.headers["ETag"].endswith(f'-{expected}"')
    again = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": reply.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_static_without_accept_encoding_is_the_file_and_head_works(client, app):
    with app.test_request_context():
        url = url_for("static", filename="microblog.js")
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers and plain.data == (STATIC / "microblog.js").read_bytes()
    assert plain.headers["Vary"].startswith("Accept-Encoding")
    head = client.head(url, headers={"Accept-Encoding": "br"})
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Encoding"] == "br" and int(head.headers["Content-Length"]) > 0
    assert client.get(url, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_images_are_sent_as_files_with_ranges_and_validators(client, app):
    with app.test_request_context():
        url = url_for("static", filename="icons/icon-192.png")
    reply = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert reply.status_code == 200 and reply.mimetype == "image/png"
    assert "Content-Encoding" not in reply.headers  # PNG is compressed already
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(url, headers={"If-None-Match": reply.headers["ETag"]}).status_code == 304
    part = client.get(url, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("path", ["/explore", "/auth/login", "/user/ada", "/api/posts",
                                  "/user/ada/feed.atom"])
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_json_and_feeds_are_sent_compressed(client, posts, path, encoding):
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": encoding})
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    assert CSRF.sub(b"", decode(packed)) == CSRF.sub(b"", plain.data)


def test_signed_in_pages_are_not_compressed_but_their_json_is(client, posts, auth):
    """BREACH: a signed-in page holds the session's CSRF token beside text anyone can choose (here a
    query string, in the footer forms' next), so it goes out as it is; JSON is still compressed."""
    auth.login("ada")
    page = client.get("/explore?q=secret", headers={"Accept-Encoding": "br, gzip"})  # "next" reflects it
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    assert b"csrf_token" in page.data and b"secret" in page.data
    assert "Accept-Encoding" in page.headers["Vary"]
    feed = client.get("/api/posts", headers={"Accept-Encoding": "gzip"})
    assert feed.status_code == 200 and feed.headers["Content-Encoding"] == "gzip"
    auth.logout()
    visitor = client.get("/explore", headers={"Accept-Encoding": "gzip"})
    assert visitor.headers["Content-Encoding"] == "gzip"


def test_a_compressed_page_still_answers_304(client, posts):
    first = client.get("/explore", headers={"Accept-Encoding": "gzip"})
    assert first.headers["ETag"].startswith('W/"')  # another representation of the same page
    again = client.get("/explore", headers={"Accept-Encoding": "gzip",
                                            "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # The uncompressed copy's validator matches as well (If-None-Match compares weakly).
    plain = client.get("/explore")
    assert client.get("/explore", headers={"Accept-Encoding": "br", "If-None-Match": plain.headers["ETag"]}
                      ).status_code == 304


@pytest.mark.parametrize("header", ["identity", "br;q=0, gzip;q=0", "deflate", "*;q=0"])
def test_no_compression_unless_accepted(client, posts, header):
    reply = client.get("/explore", headers={"Accept-Encoding": header})
    assert reply.status_code == 200 and "Content-Encoding" not in reply.headers
    assert b"<html" in reply.data


def test_refusing_brotli_gets_gzip(client, posts):
    reply = client.get("/explore", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert reply.headers["Content-Encoding"] == "gzip"


def test_small_and_binary_answers_are_left_alone(client, posts):
    small = client.get("/healthz", headers={"Accept-Encoding": "br"})
    assert small.status_code == 200 and "Content-Encoding" not in small.headers
    icon = client.get("/static/icons/icon-512.png", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in icon.headers


def test_identicons_are_cached_for_a_year(client):
    reply = client.get("/avatar/" + "ab" * 16 + ".svg")
    assert reply.status_code == 200 and reply.mimetype == "image/svg+xml"
    assert reply.cache_control.max_age == 31536000 and reply.cache_control.immutable


def test_static_files_do_not_vary_on_the_session_cookie_but_pages_do(app, client, posts, auth):
    """Flask-Login reads the session on every request; a static file must not say ``Vary: Cookie`` (a
    shared cache would keep a copy per visitor) nor set one, even for a signed-in browser."""
    auth.login("ada")
    with app.test_request_context():
        urls = [url_for("static", filename=name) for name in ("microblog.css", "icons/icon-192.png")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert "Cookie" not in response.headers.get("Vary", "") and "Set-Cookie" not in response.headers
    assert "Cookie" in client.get("/explore").headers["Vary"]
    assert "Cookie" in client.get("/notifications/count.json").headers.get("Vary", "")
