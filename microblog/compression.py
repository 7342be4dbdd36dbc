"""Responses sent compressed: brotli or gzip, whichever the client accepts, for text (pages, CSS, JS, JSON,
SVG, feeds). Static files are compressed once and kept (assets.py); pages are compressed as they go out.

Every compressible response says ``Vary: Accept-Encoding``, compressed or not, so a shared cache never
hands a brotli body to a client that asked for none. A compressed body is another representation of
the same page, so its ETag becomes weak (as nginx does): a client's ``If-None-Match`` still matches it,
and the 304 path of http_cache.py is untouched (it runs first, on the uncompressed body).

Pages for a signed-in session are not compressed (BREACH): each holds the session's CSRF token, whose
signed payload stays the same from page to page, beside text a stranger chooses (a search, a post, a
``next``). Compressed, the size of such a page tells whoever watches the encrypted traffic how much of
the token their text matched, a few guesses at a time. Visitors' pages, JSON, feeds and static files
are still compressed.
"""

from __future__ import annotations

import gzip

import brotli
from flask import Flask, Request, Response, request, session

# Media types worth compressing; images other than SVG, archives and fonts are compressed already.
COMPRESSIBLE = frozenset({
    "text/html", "text/css", "text/javascript", "text/plain", "text/xml", "text/csv",
    "application/javascript", "application/json", "application/manifest+json", "application/xml",
    "application/atom+xml", "application/rss+xml", "application/activity+json", "application/jrd+json",
    "application/problem+json", "image/svg+xml",
})
# Below this, the headers and the framing cost about what compression saves.
MIN_SIZE = 512
ENCODINGS = ("br", "gzip")
BEST_BROTLI_MAX_BYTES = 100_000


def chosen_encoding(req: Request) -> str | None:
    """The encoding to send ``req``'s answer in: the client's preferred of brotli and gzip (``q=0``
    refuses one), or None for the body as it is."""
    accepted = req.accept_encodings
    best = accepted.best_match(ENCODINGS)
    return best if best and accepted[best] > 0 else None


def compress(data: bytes, encoding: str, *, best: bool = False) -> bytes:
    """``data`` in ``encoding``. ``best``: the smallest output, for bodies compressed once and kept
    (static files); otherwise a fast level, for pages compressed on every request. Brotli's best level
    takes about 2 ms a KB: past BEST_BROTLI_MAX_BYTES, level 9 (a tenth of the time, 10-15 % larger)
    keeps the first request for a large vendored script from waiting seconds."""
    if encoding == "br":
        quality = (11 if len(data) <= BEST_BROTLI_MAX_BYTES else 9) if best else 5
        return brotli.compress(data, quality=quality)
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9 if best else 6, mtime=0)
    raise ValueError(f"unknown encoding {encoding!r}")


def is_compressible(mimetype: str | None) -> bool:
    return (mimetype or "").split(";")[0].strip().lower() in COMPRESSIBLE


def weaken_etag(response: Response) -> None:
    """A compressed body's ETag is weak (another representation of the same resource)."""
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)


def compress_response(response: Response) -> Response:
    """Compress a page's body for the client (after every other hook has read it: see register)."""
    if not is_compressible(response.mimetype):
        return response
    response.vary.add("Accept-Encoding")
    if (response.direct_passthrough or response.is_streamed or "Content-Encoding" in response.headers
            or response.status_code not in (200, 201, 203, 400, 403, 404, 410, 422, 429, 500)):
        return response
    encoding = chosen_encoding(request)
    if encoding is None or (response.mimetype == "text/html" and session.get("_user_id")):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(compress(body, encoding))
    response.headers["Content-Encoding"] = encoding
    weaken_etag(response)
    return response


def register_compression(app: Flask) -> None:
    """Flask runs the app's after_request hooks last-registered first: registered before every other
    one, compression runs last, on the finished body (http_cache.py hashes and compares it uncompressed)."""
    app.after_request(compress_response)
