"""Absolute links for emails, built from SITE_URL rather than from whatever Host a request carried."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` on the configured site, usable in requests, jobs and the CLI."""
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path.rstrip("/") or "/", url_scheme=site.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
