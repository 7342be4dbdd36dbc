"""Parameter values read as Mastodon (Rails) reads them: a number with ``to_i``'s leniency, a boolean
from the words Rails takes for true. Nothing a client sends makes these raise."""

from __future__ import annotations

from typing import Any

# ActiveModel::Type::Boolean: everything else is false.
TRUE_WORDS = frozenset({"1", "true", "t", "on", "yes", "y"})


def number(value: Any, default: int, lowest: int = 0, highest: int | None = None) -> int:
    """An integer parameter, ``default`` when it is no number, then clamped to lowest..highest."""
    if isinstance(value, bool):
        result = default
    elif isinstance(value, int):
        result = value
    else:
        try:
            result = int(str(value).strip()) if value is not None else default
        except ValueError:
            result = default
    result = max(result, lowest)
    return min(result, highest) if highest is not None else result


def truthy(value: Any) -> bool:
    """A boolean parameter: ``true``, ``1``, ``on`` (any case), or JSON true."""
    return value is True or (isinstance(value, str) and value.strip().lower() in TRUE_WORDS)
