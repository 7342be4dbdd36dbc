"""What the search adapter and its two backends share: the backend's shape, its error, its depth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

# Relevance ranks the newest this-many matches, on both backends: ranking all of a common word's
# matches (4% of a million posts) costs hundreds of milliseconds, ranking the newest few costs little.
RANK_CANDIDATES = 1000


class IndexUnavailable(Exception):
    """A backend found no usable index (missing, or unreadable)."""


class Backend(Protocol):
    name: str
    needs_indexing: bool

    def search_posts(
        self, node: Any, language: str | None, newest: bool, offset: int, limit: int
    ) -> list[int]: ...

    def search_users(self, node: Any, offset: int, limit: int) -> list: ...

    def sync(self, kind: str, ids: Sequence[int]) -> bool: ...

    def rebuild(
        self, progress: Any = None, batch_size: int = 5000, wait: bool = True
    ) -> dict[str, int] | None: ...

    def is_rebuilding(self) -> bool: ...
