"""Absolute links for emails, exports and API answers, built from SITE_URL, never from a request's Host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g
from werkzeug.routing import MapAdapter

from microblog.media_storage import media_url


def _adapter() -> MapAdapter:
    """The URL map bound to SITE_URL, bound once per app context (an API answer builds dozens of
    links: binding each time cost more than building them) and again if SITE_URL changes."""
    site_url = current_app.config["SITE_URL"]
    cached = g.get("_external_adapter")
    if cached is not None and cached[0] == site_url:
        return cached[1]
    site = urlsplit(site_url)
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path.rstrip("/") or "/", url_scheme=site.scheme or "https"
    )
    g._external_adapter = (site_url, adapter)
    return adapter


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` on the configured site, usable in requests, jobs and the CLI."""
    return _adapter().build(endpoint, values, force_external=True)


def external_media_url(key: str | None) -> str | None:
    """The absolute address of the stored file ``key`` (None for no file): a CDN's or the bucket's as
    the storage gives it, the app's own ``/media/...`` on SITE_URL. For API answers and exports, read
    away from the site's pages."""
    url = media_url(key)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme:
        return url
    site = urlsplit(current_app.config["SITE_URL"])
    scheme = site.scheme or "https"
    if parts.netloc:  # "//cdn.example/m/...": the site's scheme
        return f"{scheme}:{url}"
    return f"{scheme}://{site.netloc}{site.path.rstrip('/')}{url}"


def site_host() -> str:
    """The site's host name (with a port if SITE_URL has one), as account addresses name it."""
    return urlsplit(current_app.config["SITE_URL"]).netloc.lower()


def account_address(username: str, host: str | None = None) -> str:
    """``username@host``, the address other servers (Mastodon's CSV imports, WebFinger) know an
    account of this site by; ``host`` defaults to :func:`site_host` (pass it when writing many)."""
    return f"{username}@{host or site_host()}"
