"""deploy/nginx.conf in front of gunicorn, as on a Linux server: TLS, redirects, static files, proxy
headers, media files served from the media folder, and the body limits.

One production site (SQLite, migrated by `flask db upgrade`, PROXY_HOPS=1 as the systemd unit sets
it, media in the instance folder) behind one nginx with a self-signed certificate, shared by the
tests of this module.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.servers import ROOT, Server, production_env, start_gunicorn, stop
from tests.deploy.conftest import migrate, program
from tests.deploy.nginx import HOST, Nginx, start_nginx
from tests.deploy.web import Browser, tls_context

API_LIMIT = 3  # API calls per client address in the window


@dataclass
class Site:
    app: Server
    nginx: Nginx
    certificate: Path
    folder: Path

    def visitor(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.nginx.https_port, HOST, tls_context(str(self.certificate)), source)

    def app_log(self) -> str:
        return self.app.log.read_text()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    nginx = program("nginx", "Debian package nginx")
    openssl = program("openssl", "Debian package openssl")
    folder = tmp_path_factory.mktemp("nginx-site")
    (folder / "instance").mkdir()
    env = production_env(f"sqlite:///{folder / 'app.db'}", folder / "instance", PROXY_HOPS="1",
                         SITE_URL=f"https://{HOST}", RATELIMIT_API=f"{API_LIMIT} per 10 minutes")
    migrate(f"sqlite:///{folder / 'app.db'}", folder / "instance")
    app = start_gunicorn("microblog:create_app()", env, folder, "app", workers=1)
    try:
        proxy = start_nginx(nginx, openssl, folder / "nginx", app.port, folder / "instance" / "media")
    except BaseException:
        stop(app)
        raise
    yield Site(app, proxy, proxy.folder / "cert.pem", folder)
    proxy.stop()
    stop(app)


def test_https_serves_the_site_with_the_certificate(site):
    visitor = site.visitor()
    health = visitor.get("/healthz")
    assert health.status == 200 and b'"ok"' in health.body
    page = visitor.get("/explore")
    assert page.status == 200 and "<html" in page.text
    assert page.headers["Server"].startswith("nginx")


def test_plain_http_is_redirected_to_https(site):
    reply = Browser(site.nginx.http_port, HOST).get("/explore?page=2")
    assert reply.status == 301
    assert reply.headers["Location"] == f"https://{HOST}/explore?page=2"
    assert "GET /explore?page=2" not in site.app_log()  # nginx answered alone


def test_static_files_come_from_nginx_under_hashed_names_for_a_year(site):
    visitor = site.visitor()
    body = (ROOT / "microblog" / "static" / "microblog.css").read_bytes()
    page = visitor.get("/auth/login").text
    hashed = re.search(r'href="(/static/microblog\.([0-9a-f]{8})\.css)"', page)
    assert hashed and hashed.group(2) == hashlib.sha256(body).hexdigest()[:8]
    reply = visitor.get(hashed.group(1))
    assert reply.status == 200 and reply.body == body, site.nginx.error_log()[-2000:]
    assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert len(reply.all("Strict-Transport-Security")) == 1
    # Served from disk: gunicorn never saw it (the app would have added its CSP header).
    assert "Content-Security-Policy" not in reply.headers
    assert "/static/microblog" not in site.app_log()
    # The plain name still works, for an hour; gzip when asked, the app's bootstrap files too.
    plain = visitor.get("/static/microblog.css")
    assert plain.status == 200 and plain.body == body
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    packed = visitor.get(hashed.group(1), **{"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.body) == body
    bootstrap = re.search(r'href="(/bootstrap/static/css/bootstrap\.min\.[0-9a-f]{8}\.css)"', page).group(1)
    vendor = visitor.get(bootstrap, **{"Accept-Encoding": "br, gzip"})
    assert vendor.status == 200 and vendor.headers["Content-Encoding"] == "br"
    assert vendor.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_the_app_knows_the_visit_is_https(site):
    visitor = site.visitor()
    # A redirect the app builds from the request itself says https (X-Forwarded-Proto arrived).
    redirect = visitor.get("/admin")
    assert redirect.status == 308
    assert redirect.headers["Location"] == f"https://{HOST}/admin/"
    page = visitor.get("/auth/login")
    session = [line for line in page.all("Set-Cookie") if line.startswith("session=")]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]
    # One HSTS header: the app's (nginx adds its own only to what it serves itself).
    assert page.all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]


def test_rate_limits_count_the_real_client_address(site):
    first, second = site.visitor("127.0.0.2"), site.visitor("127.0.0.3")
    statuses = [first.get("/api/users/1").status for _ in range(API_LIMIT)]
    assert 429 not in statuses
    assert first.get("/api/users/1").status == 429
    # A client cannot pass for someone else: nginx appends the address it saw, the app trusts one hop.
    assert first.get("/api/users/1", **{"X-Forwarded-For": "198.51.100.7"}).status == 429
    # Another address has its own allowance: the app does not count nginx's 127.0.0.1 for everyone.
    assert second.get("/api/users/1").status != 429
    assert "198.51.100.7" not in site.app_log()


def announce_body(site: Site, path: str, length: int) -> bytes:
    """Send only the headers of a POST announcing ``length`` bytes; nginx's answer (it may answer
    before the body, as it does when the body is too large)."""
    context = tls_context(str(site.certificate))
    with socket.create_connection(("127.0.0.1", site.nginx.https_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {length}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        # Until the whole page has come (nginx keeps the connection a while for the unsent body).
        while b"</html>" not in answer and (chunk := conn.recv(65536)):
            answer += chunk
    return answer


@pytest.mark.parametrize("path, length", [
    ("/auth/login", 2 * 1024 * 1024),
    ("/", 46 * 1024 * 1024),  # the views that take images allow 45 MiB
    ("/api/media", 46 * 1024 * 1024),
    ("/api/v2/media", 46 * 1024 * 1024),
])
def test_bodies_over_the_limit_are_refused_by_nginx(site, path, length):
    status_line, _, rest = announce_body(site, path, length).partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert b"nginx" in rest
    assert f"POST {path} " not in site.app_log()


# -- media ---------------------------------------------------------------------------------------------

def photo(size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A photo of random pixels (they do not compress: ~2 MB, over the 1 MiB of other views), with
    GPS coordinates in its EXIF as a phone would send it."""
    from PIL import Image

    image = Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))
    exif = Image.Exif()
    exif.get_ifd(0x8825)[1] = "N"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def poster(site) -> Browser:
    """A member of the site, signed in through nginx (from an address of their own)."""
    from microblog import create_app
    from microblog.extensions import db
    from tests.conftest import TestConfig
    from tests.factories import DEFAULT_PASSWORD, make_user

    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{site.folder / 'app.db'}",
                                  "INSTANCE_DIR": str(site.folder / "instance")})
    with app.app_context():
        make_user("photographer")
        db.engine.dispose()
    visitor = site.visitor("127.0.0.4")
    signed_in = visitor.submit("/auth/login", {"username": "photographer", "password": DEFAULT_PASSWORD})
    assert signed_in.status == 302
    return visitor


def test_an_image_posted_through_nginx_is_served_by_nginx(site, poster):
    from urllib3 import encode_multipart_formdata

    from bench.servers import csrf_token

    upload = photo()
    assert len(upload) > 1024 * 1024
    fields = {"csrf_token": csrf_token(poster.get("/").text), "post": "Served by nginx",
              "media-0": ("photo.jpg", upload, "image/jpeg"), "alt-0": "Static on a screen"}
    body, content_type = encode_multipart_formdata(fields)
    posted = poster.request("POST", "/", body, {"Content-Type": content_type, "Referer": f"{poster.origin}/"})
    assert posted.status == 302, posted.text[:2000]

    # The job resizes it in the web process's jobs thread; the card then shows the thumbnail.
    deadline = time.monotonic() + 30
    while not (found := re.search(r'<img[^>]* src="(/media/m/[^"]+)" alt="Static on a screen"',
                                  poster.get("/").text)):
        assert time.monotonic() < deadline, "the image was not processed within 30 s"
        time.sleep(0.2)
    src = found.group(1)
    served = poster.get(src)
    assert served.status == 200
    assert served.body == (site.folder / "instance" / "media" / src.removeprefix("/media/")).read_bytes()
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert served.headers["Content-Disposition"] == "inline"
    assert served.headers["Server"].startswith("nginx")
    assert len(served.all("Strict-Transport-Security")) == 1
    assert b"Exif" not in served.body
    assert f"GET {src}" not in site.app_log()  # from disk: gunicorn never saw it
    # A revalidation is answered by nginx too (the ETag of the file).
    again = poster.get(src, **{"If-None-Match": served.headers["ETag"]})
    assert again.status == 304


@pytest.mark.parametrize("path, source", [("/api/v1/media", "127.0.0.5"), ("/api/v2/media", "127.0.0.6")])
def test_mastodon_uploads_past_one_mib_reach_the_app(site, path, source):
    """nginx lets an image past the 1 MiB of other views through to the Mastodon upload views: the app
    answers (401 without a token), not nginx's 413."""
    from urllib3 import encode_multipart_formdata

    upload = photo()
    assert len(upload) > 1024 * 1024
    body, content_type = encode_multipart_formdata({"file": ("photo.jpg", upload, "image/jpeg")})
    answer = site.visitor(source).request("POST", path, body, {"Content-Type": content_type})
    assert answer.status == 401, answer.text[:500]
    assert "The access token is invalid" in answer.text


def test_only_processed_media_files_are_served(site):
    from microblog.media_storage import LocalStorage, key_for

    store = LocalStorage(site.folder / "instance" / "media")
    digest = hashlib.sha256(b"raw upload").hexdigest()
    raw = key_for(digest, None, public=False)
    store.put(raw, photo((64, 64)), "image/jpeg")
    public = key_for(digest, "png")
    store.put(public, b"\x89PNG\r\n\x1a\n not really", "image/png")
    media = site.folder / "instance" / "media"
    # Files the app never writes, planted next to the real ones.
    (media / "m" / digest[:2] / f"{digest}.html").write_text("<script>alert(1)</script>")
    (media / "m" / digest[:2] / f"{digest}.svg").write_text("<svg><script>alert(1)</script></svg>")
    (media / "m" / digest[:2] / ".tmp-abc123").write_text("half written")
    visitor = site.visitor()
    assert visitor.get(f"/media/{public}").status == 200
    assert visitor.get(f"/media/{public}").headers["Content-Type"] == "image/png"
    folder = f"/media/m/{digest[:2]}"
    for path in (f"/media/{raw}", f"{folder}/{digest}.html", f"{folder}/{digest}.svg",
                 f"{folder}/.tmp-abc123", f"/media/m/../{raw}", f"/media/m/%2e%2e/{raw}", "/media/",
                 "/media/m/", f"{folder}/{digest}.png/x"):
        reply = visitor.get(path)
        assert reply.status in (400, 404), (path, reply.status)
        assert b"not really" not in reply.body and b"script" not in reply.body
    assert "GET /media/" not in site.app_log()
