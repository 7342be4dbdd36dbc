"""The full-text index adapter: keep the index current (queue, index, remove, reindex) and find ids.

The backend is chosen by ``SEARCH_BACKEND``: ``whoosh`` (an index folder, the embedded default)
or ``postgres`` (tsvector + GIN, maintained by the database). Both run the same parsed query
(:mod:`microblog.search.query`). Services call :func:`queue_posts` / :func:`queue_users` after
their commit; the index is written by a background job that reads the rows again, so a failed or
slow index never fails the user's action. A missing or broken Whoosh index makes lookups raise
:class:`SearchUnavailable` and starts a rebuild.

The adapter knows documents and ids, never accounts or permissions: the search service
(:mod:`microblog.services.search`) parses, resolves authors, applies visibility and loads rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from microblog import jobs
from microblog.search.backend import Backend, IndexUnavailable

log = logging.getLogger(__name__)

BACKENDS = ("whoosh", "postgres")
POSTS = "posts"
USERS = "users"
# A rebuild is asked for at most this often while the index stays missing or broken.
REBUILD_REQUEST_INTERVAL = 60.0


class SearchUnavailable(Exception):
    """The index is missing or unreadable; a rebuild has been started. Try again later."""


def init_app(app: Flask) -> None:
    """Pick the backend from the settings (no I/O: the index is opened when first used)."""
    name = app.config.get("SEARCH_BACKEND") or "whoosh"
    if name not in BACKENDS:
        raise RuntimeError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    backend: Backend
    if name == "postgres":
        if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            raise RuntimeError("SEARCH_BACKEND=postgres needs a PostgreSQL DATABASE_URL")
        from microblog.search.postgres_backend import PostgresBackend

        backend = PostgresBackend()
    else:
        from microblog.search.whoosh_backend import WhooshBackend

        directory = app.config.get("WHOOSH_INDEX_DIR") or Path(app.config["INSTANCE_DIR"]) / "search-index"
        app.config["WHOOSH_INDEX_DIR"] = str(directory)
        backend = WhooshBackend(directory, writer_timeout=float(app.config.get("WHOOSH_WRITER_TIMEOUT", 60)))
    app.extensions["search"] = backend


def backend() -> Backend:
    return current_app.extensions["search"]


# -- writing: after the commit, through the job facade ------------------------------------------
def queue_posts(*post_ids: int) -> None:
    """Bring these posts' index entries up to date in the background (created, edited or deleted).

    Called by services after their commit. Never raises: the user's action is already saved.
    """
    _queue(index_posts, post_ids)


def queue_users(*user_ids: int) -> None:
    """Bring these people's index entries up to date in the background."""
    _queue(index_users, user_ids)


def _queue(task: Callable[..., Any], ids: Sequence[int]) -> None:
    try:
        if ids and backend().needs_indexing:
            jobs.enqueue(task, *ids)
    except Exception:  # noqa: BLE001 - indexing is a side effect; never fail the request for it
        log.exception("search: could not queue %s%r", task.__name__, tuple(ids))


def _sync(kind: str, ids: Sequence[int]) -> None:
    ids = [int(i) for i in ids]
    try:
        written = backend().sync(kind, ids)
    except IndexUnavailable:
        log.exception("search: the index cannot be written; rebuilding it")
        request_rebuild()
        return
    if not written:
        log.warning("search: no index yet; building one")
        request_rebuild()


@jobs.task
def index_posts(*post_ids: int) -> None:
    """Job: make the index agree with the database for these posts (add, update or remove)."""
    _sync(POSTS, post_ids)


@jobs.task
def index_users(*user_ids: int) -> None:
    """Job: make the index agree with the database for these people."""
    _sync(USERS, user_ids)


@jobs.task
def remove_posts(*post_ids: int) -> None:
    """Job: drop these posts from the index (the database no longer has them)."""
    _sync(POSTS, post_ids)  # the rows are gone, so syncing removes them


@jobs.task
def rebuild_index() -> None:
    """Job: rebuild the whole index from the database, unless a rebuild is already running."""
    counts = backend().rebuild(wait=False)
    if counts is not None:
        log.info("search: index rebuilt (%s)", counts)
        # Done: should the index break again, the next failure may ask for another rebuild at once.
        current_app.extensions.setdefault("search_rebuild_requested", {})["at"] = 0.0


def request_rebuild() -> None:
    """Start a rebuild in the background, at most once a minute per process."""
    state = current_app.extensions.setdefault("search_rebuild_requested", {})
    now = time.monotonic()
    if backend().is_rebuilding() or now - state.get("at", 0.0) < REBUILD_REQUEST_INTERVAL:
        return
    state["at"] = now
    try:
        jobs.enqueue(rebuild_index)
    except Exception:  # noqa: BLE001
        log.exception("search: could not start a rebuild")


def reindex(progress: Callable[[str, int], None] | None = None, batch_size: int = 5000) -> dict[str, int]:
    """Rebuild the index from the database now, waiting for a running rebuild to finish first."""
    return backend().rebuild(progress=progress, batch_size=batch_size, wait=True) or {}


# -- finding ids ----------------------------------------------------------------------------------
def find_post_ids(node: Any, language: str | None, newest: bool, offset: int, limit: int,
                  visible: Any = None) -> list:
    """Ids (or rows) of posts matching the query tree ``node``, best or newest first.

    ``visible`` (a SQL condition on posts) is applied by a backend that can filter as it searches
    (:func:`filters_visibility`); the others ignore it and the caller filters.

    :raises SearchUnavailable: the index is missing or broken (a rebuild has been started).
    """
    if filters_visibility():
        return _run(lambda b: b.search_posts(node, language, newest, offset, limit, visible))  # type: ignore[call-arg]
    return _run(lambda b: b.search_posts(node, language, newest, offset, limit))


def find_user_ids(node: Any, offset: int, limit: int) -> list:
    """Ids (or rows) of people whose name or about-me matches ``node``, best first.

    :raises SearchUnavailable: the index is missing or broken (a rebuild has been started).
    """
    return _run(lambda b: b.search_users(node, offset, limit))


def filters_visibility() -> bool:
    """True when the backend applies a visibility condition itself (it searches the database)."""
    return bool(getattr(backend(), "filters_visibility", False))


def _run(call: Callable[[Backend], list]) -> list:
    current = backend()
    try:
        return call(current)
    except IndexUnavailable as exc:
        log.warning("search: %s; rebuilding the index", exc)
        request_rebuild()
        raise SearchUnavailable(str(exc)) from exc


def document_ids(kind: str) -> set[int]:
    """Every id the index holds (consistency checks); the PostgreSQL backend has no separate index."""
    return backend().document_ids(kind)  # type: ignore[attr-defined]
