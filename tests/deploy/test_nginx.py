"""deploy/nginx.conf in front of gunicorn, as on a Linux server: TLS, redirects, static files, proxy headers.

One production site (SQLite, migrated by `flask db upgrade`, PROXY_HOPS=1 as the systemd unit sets
it) behind one nginx with a self-signed certificate, shared by the tests of this module. Media
uploads do not exist yet; when they do, nginx should serve them like /static/ and a test belongs here.
"""

from __future__ import annotations

import socket
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
        proxy = start_nginx(nginx, openssl, folder / "nginx", app.port)
    except BaseException:
        stop(app)
        raise
    yield Site(app, proxy, proxy.folder / "cert.pem")
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


def test_static_files_come_from_nginx_with_long_cache_headers(site):
    reply = site.visitor().get("/static/microblog.css")
    assert reply.status == 200
    assert reply.body == (ROOT / "microblog" / "static" / "microblog.css").read_bytes()
    assert reply.headers["Cache-Control"] == "max-age=604800"  # a week
    assert reply.headers["Expires"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert len(reply.all("Strict-Transport-Security")) == 1
    # Served from disk: gunicorn never saw it (the app would have added its CSP header).
    assert "Content-Security-Policy" not in reply.headers
    assert "/static/microblog.css" not in site.app_log()


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


def test_bodies_over_the_limit_are_refused_by_nginx(site):
    context = tls_context(str(site.certificate))
    with socket.create_connection(("127.0.0.1", site.nginx.https_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        conn.sendall(f"POST /auth/login HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {2 * 1024 * 1024}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        # Until the whole page has come (nginx keeps the connection a while for the unsent body).
        while b"</html>" not in answer and (chunk := conn.recv(65536)):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert b"nginx" in rest
    assert "POST /auth/login" not in site.app_log()
