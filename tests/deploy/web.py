"""A small HTTP(S) client for the deployment tests: keeps cookies, fills CSRF tokens, picks its address.

The deployed site is reached over a real socket (plain HTTP to gunicorn, or TLS to nginx), from a
chosen loopback address, so the proxy and the app see what a browser at that address would send.
"""

from __future__ import annotations

import http.client
import re
import ssl
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message

from bench.servers import csrf_token


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def all(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []


@dataclass
class Browser:
    """One visitor: ``port`` on 127.0.0.1, over TLS when ``tls`` is given, asking for ``host``."""

    port: int
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    source: str = "127.0.0.1"  # any 127.x.y.z: the server sees a different client for each
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def connection(self) -> http.client.HTTPConnection:
        if self.tls is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=self.tls,
                                               source_address=(self.source, 0))
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(self.source, 0))

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        sent = {"Host": self.host, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            reply = Reply(response.status, response.msg, response.read())
        finally:
            conn.close()
        for line in reply.all("Set-Cookie"):
            name, _, rest = line.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return reply

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, headers=headers)

    def submit(self, path: str, fields: dict[str, str], form_page: str | None = None) -> Reply:
        """Fill the form on ``form_page`` (default: ``path``) and post it, as a browser would: with
        the page's CSRF token and a Referer naming the page."""
        page = self.get(form_page or path)
        assert page.status == 200, f"{form_page or path} answered {page.status}"
        body = urllib.parse.urlencode({**fields, "csrf_token": csrf_token(page.text)}).encode()
        return self.request("POST", path, body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"{self.origin}{form_page or path}"})


def tls_context(certificate: str) -> ssl.SSLContext:
    """Trust only ``certificate`` (the test's self-signed one), with host-name checking on."""
    return ssl.create_default_context(cafile=certificate)


LINK_RE = re.compile(r"https?://\S+?/auth/reset_password/[\w.\-]+")


def reset_link(text: str) -> str:
    match = LINK_RE.search(text)
    assert match, f"no reset link in:\n{text}"
    return match.group(0)
