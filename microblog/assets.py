"""Static files under content-hashed names, cached for a year, sent compressed.

``url_for('static', filename='microblog.css')`` gives ``/static/microblog.3fa2b1c9.css``: the name
carries the first 8 hex digits of the SHA-256 of the file's bytes, so a changed file gets a new URL
and the old one can be cached for good (``Cache-Control: public, max-age=31536000, immutable``). The
same holds for every blueprint's static files (Bootstrap-Flask's vendored Bootstrap). The plain name
is still served, with a short lifetime; so is a hashed name whose hash is no longer the file's (a page
from before an upgrade), since the content it asks for is gone.

Digests are worked out on first use and kept per file, checked against the file's size and mtime, so
an edited file gets a new name without a restart and a worker hashes only the files its pages name.
Text files (CSS, JS, SVG) are read once and kept with their brotli and gzip versions.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, abort, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.security import safe_join

from microblog.compression import MIN_SIZE, chosen_encoding, compress, is_compressible

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"
HASH_LENGTH = 8
# "css/bootstrap.min.0123abcd.css" -> "css/bootstrap.min", "0123abcd", ".css"
_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)$")

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")  # the standard type (RFC 9239), whatever /etc/mime.types says


@dataclass
class _Entry:
    stamp: tuple[int, int]  # (mtime_ns, size) of the file when it was read
    digest: str
    bodies: dict[str | None, bytes] = field(default_factory=dict)  # encoding -> body (text files)


# Absolute path -> what was worked out for it. Shared by the apps of a process (tests build hundreds).
_entries: dict[str, _Entry] = {}


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size) if os.path.isfile(path) else None


def _entry(path: str) -> _Entry | None:
    """The digest (and kept bodies) of the file at ``path``, refreshed when the file changed."""
    stamp = _stamp(path)
    if stamp is None:
        return None
    entry = _entries.get(path)
    if entry is None or entry.stamp != stamp:
        with open(path, "rb") as file:
            data = file.read()
        entry = _Entry(stamp, hashlib.sha256(data).hexdigest())
        if is_compressible(mimetypes.guess_type(path)[0]):
            entry.bodies[None] = data
        _entries[path] = entry
    return entry


def hashed_name(folder: str, filename: str) -> str:
    """``filename`` with its content hash before the extension; unchanged for a missing file or one
    without an extension."""
    stem, dot, suffix = filename.rpartition(".")
    if not dot or not stem or "/" in suffix:
        return filename
    path = safe_join(folder, filename)
    entry = _entry(path) if path else None
    if entry is None:
        return filename
    return f"{stem}.{entry.digest[:HASH_LENGTH]}.{suffix}"


def resolve(folder: str, filename: str) -> tuple[str, bool]:
    """The file a static URL names, and whether the URL carries that file's current hash."""
    match = _HASHED.match(filename)
    if match:
        original = match["stem"] + match["suffix"]
        path = safe_join(folder, original)
        entry = _entry(path) if path else None
        if entry is not None:
            return original, entry.digest.startswith(match["digest"])
    return filename, False


def _encoded(entry: _Entry, encoding: str | None) -> bytes:
    body = entry.bodies.get(encoding)
    if body is None:
        body = compress(entry.bodies[None], encoding or "", best=True)
        entry.bodies[encoding] = body
    return body


def serve(folder: str, filename: str) -> Response:
    """Send one static file: hashed names for a year, plain ones for an hour; text compressed."""
    original, current = resolve(folder, filename)
    path = safe_join(folder, original)
    entry = _entry(path) if path else None
    if entry is None:
        abort(404)
    cache_control = IMMUTABLE if current else SHORT
    if None not in entry.bodies:  # images, fonts: Flask sends the file (ranges, conditional requests)
        response = send_from_directory(folder, original, max_age=None, etag=entry.digest[:32])
    else:
        encoding = chosen_encoding(request) if entry.stamp[1] >= MIN_SIZE else None
        response = Response(_encoded(entry, encoding), mimetype=mimetypes.guess_type(original)[0])
        response.set_etag(f"{entry.digest[:32]}-{encoding}" if encoding else entry.digest[:32])
        response.last_modified = datetime.fromtimestamp(entry.stamp[0] / 1e9, tz=UTC)
        response.vary.add("Accept-Encoding")
        if encoding:
            response.headers["Content-Encoding"] = encoding
        response.make_conditional(request)
    response.headers["Cache-Control"] = cache_control
    return response


def _static_view(folder: str) -> Callable[..., Response]:
    def view(filename: str) -> Response:
        return serve(folder, filename)

    view.quiet = True  # type: ignore[attr-defined]  # not a visit: web.record_activity loads no account
    view.static_file = True  # type: ignore[attr-defined]  # the same bytes for everyone
    return view


class StaticFilesSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a static file does not say ``Vary: Cookie``.

    Flask adds it to every response whose request touched the session, and Flask-Login's after-request
    hook looks at the session on every request, static files included. A file is the same whoever asks,
    so the header would only make shared caches keep one copy per visitor.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "static_file", False) and not session.modified:
            session.accessed = False
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Serve the app's and every blueprint's static files through ``serve``, and make ``url_for`` name
    them by their hashes. Call after every blueprint with static files is registered."""
    folders: dict[str, str] = {}
    if app.static_folder and "static" in app.view_functions:
        folders["static"] = app.static_folder
    for name, blueprint in app.blueprints.items():
        endpoint = f"{name}.static"
        if blueprint.static_folder and endpoint in app.view_functions:
            folders[endpoint] = blueprint.static_folder
    for endpoint, folder in folders.items():
        app.view_functions[endpoint] = _static_view(folder)
    app.session_interface = StaticFilesSessionInterface()

    def add_hash(endpoint: str, values: dict[str, Any]) -> None:
        folder = folders.get(endpoint)
        filename = values.get("filename")
        if folder and isinstance(filename, str):
            values["filename"] = hashed_name(folder, filename)

    app.url_defaults(add_hash)
