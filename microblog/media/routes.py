"""Serving stored media from the embedded storage (files in MEDIA_DIR): long-lived, never run as a page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file

from microblog.media_storage import LocalStorage, is_valid_key, storage

bp = Blueprint("media", __name__)

# Media files are named by their content: a name never points at other bytes, so browsers and
# proxies may keep them for a year.
ONE_YEAR = 365 * 24 * 3600
# What a stored file may be served as; anything else is refused (no SVG, no HTML, ever).
SERVED_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@bp.route("/media/<path:key>")
def file(key: str):
    """A public media file ("m/..."), when the files are on this machine (MEDIA_STORAGE=local)."""
    store = storage()
    extension = key.rsplit(".", 1)[-1]
    if (not isinstance(store, LocalStorage) or not key.startswith("m/") or not is_valid_key(key)
            or extension not in SERVED_TYPES):
        abort(404)
    path = store.path(key)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=SERVED_TYPES[extension], max_age=ONE_YEAR, conditional=True,
                         etag=True)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["Content-Disposition"] = "inline"
    # Even if a browser were talked into treating it as a document, nothing in it may run.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-site"
    current_app.logger.debug("served media %s", key)
    return response
