"""Routes that answer with and without a trailing slash, as Mastodon's do.

Real clients ask for both (Mastodon.py asks for ``/api/v1/instance/``, toot for
``/oauth/authorize/``), and a redirect from one to the other would lose a POST's body, so each view
answers both paths, neither redirecting (``strict_slashes=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint


def route(bp: Blueprint, path: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@route(bp, "/api/v1/instance")``: the view at ``path`` and at ``path + "/"``."""
    return bp.route(path.rstrip("/"), strict_slashes=False, **options)
