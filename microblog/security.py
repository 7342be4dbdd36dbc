"""Response headers that make the browser enforce what the templates promise (no inline script)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app

BASE_POLICY = {
    "default-src": "'self'",
    # blob: the composer's previews of images about to be posted (object URLs of the chosen files).
    "img-src": "'self' data: blob:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def content_security_policy() -> str:
    policy = dict(BASE_POLICY)
    if current_app.config.get("AVATAR_PROVIDER") == "gravatar":
        policy["img-src"] += " https://www.gravatar.com"
    media_origin = _media_origin()
    if media_origin:
        policy["img-src"] += f" {media_origin}"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def _media_origin() -> str | None:
    """The origin images are loaded from when it is not the site itself (a CDN, an S3 endpoint)."""
    config = current_app.config
    base = config.get("MEDIA_BASE_URL")
    if not base and config.get("MEDIA_STORAGE") == "s3":
        base = config.get("MEDIA_S3_ENDPOINT_URL")
    parts = urlsplit(base or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def add_security_headers(response: Response) -> Response:
    """Set on every response: pages, errors, static files and the API alike."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    hsts = current_app.config.get("HSTS_SECONDS")
    if hsts:
        headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts)}; includeSubDomains")
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
