"""Avatars: identicons drawn by the app (no outside image host), or Gravatar when configured."""

from __future__ import annotations

import hashlib

from flask import current_app, url_for

from microblog.media_storage import storage

GRID = 5


def identicon_svg(digest: str) -> str:
    """A symmetric 5x5 identicon for ``digest``, as an SVG document."""
    seed = hashlib.sha256(digest.encode()).digest()
    hue = int.from_bytes(seed[:2], "big") % 360
    color = f"hsl({hue}, 55%, 48%)"
    cells = []
    bits = int.from_bytes(seed[2:6], "big")
    half = (GRID + 1) // 2
    for col in range(half):
        for row in range(GRID):
            if bits & 1:
                cells.append((col, row))
                if col != GRID - 1 - col:
                    cells.append((GRID - 1 - col, row))
            bits >>= 1
    rects = "".join(f'<rect x="{x + 1}" y="{y + 1}" width="1" height="1"/>' for x, y in cells)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 7 7" shape-rendering="crispEdges">'
        f'<rect width="7" height="7" fill="#f0f0f0"/><g fill="{color}">{rects}</g></svg>'
    )


def avatar_url(user, size: int = 64) -> str:
    """Where the browser fetches ``user``'s avatar: the picture they uploaded, else the identicon (or
    Gravatar when configured)."""
    if user.avatar_key:
        return storage().url(user.avatar_key)
    if current_app.config.get("AVATAR_PROVIDER") == "gravatar":
        return f"https://www.gravatar.com/avatar/{user.email_digest}?d=identicon&s={size}"
    return url_for("main.avatar", digest=user.avatar_digest)


def header_url(user) -> str | None:
    """Where the browser fetches ``user``'s header image, or None without one."""
    return storage().url(user.header_key) if user.header_key else None
