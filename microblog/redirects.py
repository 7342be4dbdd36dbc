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


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` when it is a safe local path (a ``next`` field or parameter), else ``fallback``."""
    return target if target and is_safe_local_path(target) else fallback


def leads_to(target: str, path: str) -> bool:
    """True when the local path ``target`` is the page at ``path`` or one under it (``/post/7``,
    ``/post/7?replies=all``, ``/post/7/history``), so a redirect there would meet a deleted row."""
    location = urlsplit(target).path.rstrip("/")
    return location == path or location.startswith(path + "/")
