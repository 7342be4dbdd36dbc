"""Full-text search: the one API the rest of the app uses (add, remove, query, reindex).

The backend is chosen by ``SEARCH_BACKEND``: ``whoosh`` (an index folder, the embedded default)
or ``postgres`` (tsvector + GIN, maintained by the database). Both run the same parsed query
(:mod:`microblog.search.query`). Services call :func:`queue_posts` / :func:`queue_users` after
their commit; the index is written by a background job that reads the rows again, so a failed or
slow index never fails the user's action. A missing or broken Whoosh index makes searches raise
:class:`SearchUnavailable` and starts a rebuild.

Nothing here imports the models at load time: models.py imports the PostgreSQL expressions from
this package.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from microblog import jobs
from microblog.paging import Page
from microblog.search.query import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    Author,
    ParsedQuery,
    Phrase,
    Prefix,
    Tag,
    Term,
    map_atoms,
    normalize,
    parse,
    positive_atoms,
    stem_language,
)

log = logging.getLogger(__name__)

BACKENDS = ("whoosh", "postgres")
SORTS = ("relevance", "new")
POSTS = "posts"
USERS = "users"
# What the search page tells people when their query was cut.
LIMITS = {"chars": MAX_QUERY_CHARS, "terms": MAX_TERMS}
# A rebuild is asked for at most this often while the index stays missing or broken.
REBUILD_REQUEST_INTERVAL = 60.0
# Search shows at most this many posts per query (either order): the page that reaches it says so
# and offers no next page. Ranking or sorting ever deeper costs every search; nobody pages that far.
MAX_RESULTS = 1000
# Relevance ranks the newest this-many matches, on both backends: ranking all of a common word's
# matches (4% of a million posts) costs hundreds of milliseconds, ranking the newest few costs little.
RANK_CANDIDATES = MAX_RESULTS
# A backend that cannot leave out what the viewer may not see is asked for this many more ids than
# the page shows, so that a page stays full when a few of them are hidden or blocked.
OVERFETCH = 10

__all__ = [
    "MAX_RESULTS", "ParsedQuery", "SearchPage", "SearchUnavailable", "parse", "init_app", "queue_posts",
    "queue_users", "index_posts",
    "index_users", "remove_posts", "search_posts", "search_users", "reindex", "highlighter",
]


class IndexUnavailable(Exception):
    """A backend found no usable index (missing, or unreadable)."""


class SearchUnavailable(Exception):
    """The index is missing or unreadable; a rebuild has been started. Try again later."""


@dataclass(frozen=True)
class SearchPage(Page):
    """A page of search results; ``capped``: more posts match than search shows (MAX_RESULTS)."""

    capped: bool = False


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


# -- reading ---------------------------------------------------------------------------------------
def _resolve_authors(parsed: ParsedQuery) -> Any:
    """The query tree with each @username's id filled in (None when nobody has that name)."""
    from microblog.services import accounts

    def resolve(atom: Any) -> Any:
        if isinstance(atom, Author):
            user = accounts.get_user_by_username(atom.username)
            return Author(atom.username, user.id if user is not None else None)
        return atom

    return map_atoms(parsed.node, resolve) if parsed.node is not None else None


def search_posts(
    parsed: ParsedQuery, page: int, per_page: int, sort: str = "relevance", language: str | None = None,
    viewer: Any = None,
) -> SearchPage:
    """One page of posts matching ``parsed``, best first (or newest first with ``sort="new"``).

    Posts a moderator hid are left out, except for moderators and their authors (``viewer``), and
    so are the posts of people ``viewer`` has blocked; pages stay full all the same. Only the first
    :data:`MAX_RESULTS` posts are offered: the page that reaches them has ``capped`` set when more
    match, and pages beyond are empty (and capped).

    :raises SearchUnavailable: the index is missing or broken (a rebuild has been started).
    """
    offset = (page - 1) * per_page
    if parsed.node is None:
        return SearchPage(items=[], page=page, per_page=per_page, has_next=False)
    if offset >= MAX_RESULTS:
        return SearchPage(items=[], page=page, per_page=per_page, has_next=False, capped=True)
    wanted = min(per_page, MAX_RESULTS - offset)
    node, newest, visible = _resolve_authors(parsed), sort == "new", _visible_condition(viewer)
    # One id more than the page shows tells whether more follow.
    if getattr(backend(), "filters_visibility", False):
        found = _run(lambda b: b.search_posts(node, language, newest, offset, wanted + 1, visible))
    else:
        found = _visible_ids(lambda count: _run(lambda b: b.search_posts(node, language, newest, 0, count)),
                             visible, offset, wanted + 1)
    more = len(found) > wanted
    last_page = offset + wanted >= MAX_RESULTS
    return SearchPage(items=_load(POSTS, found[:wanted]), page=page, per_page=per_page,
                      has_next=more and not last_page, capped=more and last_page)


def _visible_condition(viewer: Any) -> Any:
    """Posts ``viewer`` may find: not hidden (unless theirs, or a moderator), not by people they blocked."""
    import sqlalchemy as sa

    from microblog.models import Permission, Post

    if viewer is None:
        return Post.hidden_at.is_(None)
    conditions = [Post.user_id.not_in(viewer.blocked_ids_select())]
    if not viewer.can(Permission.MODERATE_POSTS):
        conditions.append(sa.or_(Post.hidden_at.is_(None), Post.user_id == viewer.id))
    return sa.and_(*conditions)


def _visible_ids(search: Callable[[int], list[int]], visible: Any, offset: int, count: int) -> list[int]:
    """Ids ``offset`` to ``offset + count`` of what ``search(n)`` (its best ``n`` ids) finds, visible only.

    The index knows nothing of hidden posts and blocks: the database tells which of the ids found
    may be shown (and drops posts deleted since they were indexed); when too few may, the index is
    asked for more (at most three times).
    """
    import sqlalchemy as sa

    from microblog.extensions import db
    from microblog.models import Post

    fetch = offset + count + OVERFETCH
    for _attempt in range(3):
        found = search(fetch)
        if not found:
            return []
        allowed = set(db.session.scalars(sa.select(Post.id).where(Post.id.in_(found), visible)))
        shown = [i for i in found if i in allowed]
        if len(shown) >= offset + count or len(found) < fetch:
            break
        fetch *= 4
    return shown[offset:offset + count]


def search_users(parsed: ParsedQuery, page: int, per_page: int) -> Page:
    """One page of people whose name or about-me matches ``parsed``, best first.

    :raises SearchUnavailable: the index is missing or broken (a rebuild has been started).
    """
    if parsed.node is None:
        return Page(items=[], page=page, per_page=per_page, has_next=False)
    found = _run(lambda b: b.search_users(parsed.node, (page - 1) * per_page, per_page + 1))
    return Page(items=_load(USERS, found[:per_page]), page=page, per_page=per_page,
                has_next=len(found) > per_page)


def _run(call: Callable[[Backend], list]) -> list:
    current = backend()
    try:
        return call(current)
    except IndexUnavailable as exc:
        log.warning("search: %s; rebuilding the index", exc)
        request_rebuild()
        raise SearchUnavailable(str(exc)) from exc


def _load(kind: str, found: list) -> list:
    """Rows for ids in the order given (the Whoosh backend returns ids; PostgreSQL returns rows)."""
    if not found or not isinstance(found[0], int):
        return found
    import sqlalchemy as sa

    from microblog.extensions import db
    from microblog.models import Post, User

    model = Post if kind == POSTS else User
    rows = {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(found))).unique()}
    # An id the database no longer has (deleted since it was indexed) is simply left out.
    return [rows[i] for i in found if i in rows]


def document_ids(kind: str) -> set[int]:
    """Every id the index holds (consistency checks); the PostgreSQL backend has no separate index."""
    return backend().document_ids(kind)  # type: ignore[attr-defined]


# -- highlighting ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Highlighter:
    """Decides which words of a text to mark: the query's words, their stems and prefixes."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    stems: frozenset[tuple[str, str]]  # (language, stem)
    languages: tuple[str, ...]

    def __call__(self, word: str) -> bool:
        from microblog.search.whoosh_backend import stemmer

        word = normalize(word)
        if word in self.exact or word.startswith(self.prefixes):
            return True
        for language in self.languages:
            stem = stemmer(language)
            if stem is not None and (language, stem(word)) in self.stems:
                return True
        return False


def highlighter(parsed: ParsedQuery, language: str | None = None) -> Highlighter | None:
    """A word matcher for the words the query looks for (not those it excludes), or None.

    Both backends highlight the same way, in Python, after escaping (see templating.highlight).
    """
    from microblog.search.query import words as split_words
    from microblog.search.whoosh_backend import stemmer

    languages = tuple(dict.fromkeys(code for code in ("en", stem_language(language)) if code))
    exact: set[str] = set()
    prefixes: list[str] = []
    stemmed: set[tuple[str, str]] = set()
    for atom in positive_atoms(parsed.node):
        if isinstance(atom, Term):
            exact.add(atom.word)
            for code in languages:
                stem = stemmer(code)
                if stem is not None:
                    stemmed.add((code, stem(atom.word)))
        elif isinstance(atom, Phrase):
            exact.update(atom.words)
        elif isinstance(atom, Prefix):
            prefixes.append(atom.prefix)
        elif isinstance(atom, Tag):
            exact.update(split_words(atom.name))
    if not (exact or prefixes or stemmed):
        return None
    return Highlighter(frozenset(exact), tuple(prefixes), frozenset(stemmed), languages)
