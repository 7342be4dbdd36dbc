"""Redirect safety: only local paths are followed after login."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_local_path(target: str | None) -> bool:
    """True for a path on this site such as ``/user/ann?page=2``; False for anything that leaves it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
