"""`next` after login: a corpus of open-redirect tricks never sends anyone off the site."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from microblog.redirects import is_safe_local_path
from tests.factories import DEFAULT_PASSWORD, make_user

HOSTS = ["evil.example", "evil.example:443", "user@evil.example", "evil.example%2f"]
BYPASSES = [
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "\\\\evil.example",
    "\\/evil.example", "/\\/evil.example", "https:evil.example", "https:/evil.example",
    "https://evil.example", "http://evil.example", "HTTPS://evil.example", "//evil.example/%2e%2e",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,hi", "vbscript:x", "/%09/evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "\t//evil.example", " //evil.example",
    "//evil.example\\@microblog.test", "//evil%E3%80%82example", "//evil。example", "/\u2215evil.example",
    "//\u2215evil.example", "\u2215\u2215evil.example", "\uff0f\uff0fevil.example", "/\uff0fevil.example",
    "%2f%2fevil.example", "/%2f/evil.example", "%5c%5cevil.example", "/%5cevil.example",
    "//evil.example/..;/", "https://microblog.test@evil.example", "//microblog.test@evil.example",
    "http://[::1]/", "//127.0.0.1", "//0x7f.1", "//2130706433", "ftp://evil.example", "//evil.example#/x",
    "/ /evil.example", "\x00//evil.example", "//evil.example?next=/", "/.//evil.example"[1:],
    "https:\\\\evil.example", "ht\ttps://evil.example", "//evil.example%00", "///\\evil.example",
    "\\x", "/\\x", "///x", "https:x",
]


def test_the_corpus_is_large_enough():
    assert len(set(BYPASSES)) >= 50


def browser_destination(target: str) -> str:
    """Where a browser on the site would go: it drops tabs and newlines and reads \\ as /."""
    cleaned = target.replace("\\", "/").translate({9: None, 10: None, 13: None}).strip()
    return urlsplit(urljoin("https://microblog.test/auth/login", cleaned)).netloc


@pytest.mark.parametrize("target", BYPASSES)
def test_whatever_is_accepted_stays_on_the_site(target):
    if is_safe_local_path(target):
        assert browser_destination(target) == "microblog.test", target


@pytest.mark.parametrize("target", ["/", "/user/alice", "/explore?page=2", "/search?q=a%2Fb", "/a//b"])
def test_local_paths_are_kept(target):
    assert is_safe_local_path(target)


@pytest.mark.parametrize("target", BYPASSES)
def test_login_never_redirects_off_site(client, app, target):
    with app.app_context():
        make_user("alice")
    response = client.post("/auth/login", query_string={"next": target},
                           data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and not parts.scheme, location
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
