"""WebFinger, the asking side: ``user@host`` to the id of its actor (RFC 7033, as Mastodon uses it)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from flask import current_app

from microblog.federation import safe_http

log = logging.getLogger(__name__)

JRD_ACCEPT = "application/jrd+json, application/json"
ACTOR_LINK_TYPES = ("application/activity+json", "application/ld+json")
# name@host, the host with an optional port (peers on loopback in tests; private networks).
_HANDLE = re.compile(r"^@?(?:acct:)?([^\s@/:?#]{1,100})@([a-z0-9.-]{1,253}(?::\d{1,5})?)$", re.IGNORECASE)


def parse_handle(handle: str) -> tuple[str, str] | None:
    """(name, host) of ``user@host``, ``@user@host`` or ``acct:user@host``; the host lower-cased."""
    match = _HANDLE.match(handle.strip())
    if match is None:
        return None
    return match.group(1), match.group(2).lower()


def actor_link(jrd: dict[str, Any]) -> str | None:
    """The actor id in a WebFinger answer: the ``self`` link of an ActivityPub type."""
    links = jrd.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        kind = link.get("type")
        href = link.get("href")
        if isinstance(kind, str) and kind.split(";", 1)[0].strip().lower() in ACTOR_LINK_TYPES \
                and isinstance(href, str) and href.lower().startswith(("https://", "http://")):
            return href
    return None


def lookup(name: str, host: str) -> str | None:
    """The actor id of ``name@host`` by WebFinger on ``host`` over HTTPS (and over plain HTTP when
    private addresses are allowed: peers on loopback in tests), or None."""
    schemes = ["https"]
    if current_app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"]:
        schemes.append("http")
    resource = quote(f"acct:{name}@{host}", safe=":@")
    for scheme in schemes:
        url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
        try:
            jrd = safe_http.fetch_json(url, accept=JRD_ACCEPT)
        except safe_http.UnsafeAddress as exc:
            log.info("webfinger %s@%s refused: %s", name, host, exc)
            return None
        except safe_http.FetchError as exc:
            log.info("webfinger %s: %s", url, exc)
            continue
        return actor_link(jrd)
    return None
