"""Reading ActivityStreams JSON as servers send it: a field may name an object by its id or embed it,
and may hold one value or a list."""

from __future__ import annotations

from typing import Any

from microblog.models import URI_MAX


def id_of(value: Any) -> str | None:
    """The id a value names: the string itself, or an embedded object's ``id`` (None: neither, or
    longer than we keep)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= URI_MAX else None


def as_list(value: Any) -> list[Any]:
    """One value or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
