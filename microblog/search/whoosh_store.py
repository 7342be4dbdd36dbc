"""The Whoosh index on disk: its folder's layout, generations and markers, schemas, documents, merges.

Layout of ``WHOOSH_INDEX_DIR``::

    CURRENT            the name of the generation that searches read (written atomically)
    REBUILDING         the generation a rebuild is filling, while it runs
    STALE              present when a write to the current generation failed (disk full, lock
                       held too long): the index is behind the database until the next rebuild
    gen-<time>-<rand>/ one complete index: Whoosh indexes "posts" and "users", and FORMAT (the
                       layout it was built with; one from an older layout is rebuilt on first use)
    rebuild.lock       held by the one rebuild allowed at a time

Stemming: field ``body`` holds the words as written (phrases and prefixes match there); field
``stemmed`` holds the same words stemmed for the post's language (English when it was not
detected, none for languages without a stemmer). How a query reads these fields is
:mod:`microblog.search.whoosh_query`; when to write what is :mod:`microblog.search.whoosh_backend`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from whoosh import index as whoosh_index
from whoosh.analysis import RegexTokenizer
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, TEXT, Schema
from whoosh.index import LockError

from microblog.models import Post, User
from microblog.search.backend import IndexUnavailable
from microblog.search.query import stem_language, tags, words
from microblog.search.stemming import stemmer

log = logging.getLogger(__name__)

POSTS = "posts"
USERS = "users"
CURRENT = "CURRENT"
REBUILDING = "REBUILDING"
STALE = "STALE"
# The layout of a generation. 2: documents kept in write order (searches read from the newest end),
# so an index built before that is rebuilt rather than read in the wrong order.
FORMAT = "FORMAT"
FORMAT_VERSION = "2"
# A rebuild that has not written its marker for this long is taken to have died.
REBUILD_STALE_SECONDS = 15 * 60
# Seconds a write waits for the lock to merge segments after its commit (another writer merges).
MERGE_LOCK_TIMEOUT = 1.0
# The text is already split into normalised words (query.words); the analyzer only cuts at spaces.
_ANALYZER = RegexTokenizer(r"\S+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Sort keys are columns only (COLUMN): a NUMERIC field would also index 16 trie terms per value.
# The field names are those of whoosh_query.POST_FIELDS and USER_FIELDS.
POST_SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    user_id=ID,
    tags=TEXT(analyzer=_ANALYZER, phrase=False),
    body=TEXT(analyzer=_ANALYZER, phrase=True),
    stemmed=TEXT(analyzer=_ANALYZER, phrase=False),
    ts=COLUMN(NumericColumn("Q")),
    pid=COLUMN(NumericColumn("Q")),
)

USER_SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    username=ID,
    text=TEXT(analyzer=_ANALYZER, phrase=True),
    stemmed=TEXT(analyzer=_ANALYZER, phrase=False),
    uid=COLUMN(NumericColumn("Q")),
)
SCHEMAS = {POSTS: POST_SCHEMA, USERS: USER_SCHEMA}


def _stemmed_text(text_words: Sequence[str], language: str | None) -> str:
    stem = stemmer(language)
    return " ".join(stem(w) for w in text_words) if stem else " ".join(text_words)


def _micros(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return max((value - _EPOCH) // timedelta(microseconds=1), 0)


def _progress_file(generation: Path, kind: str) -> Path:
    return generation / f"progress-{kind}"


def write_progress(generation: Path, kind: str, last_id: int | None) -> None:
    """Record how far a rebuild got (None: finished); written while holding the writer lock."""
    path = _progress_file(generation, kind)
    if last_id is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(str(last_id))


def read_progress(generation: Path, kind: str) -> float:
    """The highest id a rebuild has written to ``generation`` (infinity once it is complete)."""
    try:
        return int(_progress_file(generation, kind).read_text())
    except (FileNotFoundError, ValueError):
        return float("inf")


# -- documents ---------------------------------------------------------------------------------
def post_document(row: Any) -> dict[str, Any]:
    """The fields indexed for a post row (id, user_id, body, language, timestamp)."""
    body_words = words(row.body)
    return {
        "id": str(row.id),
        "user_id": str(row.user_id),
        "tags": " ".join(tags(row.body)),
        "body": " ".join(body_words),
        "stemmed": _stemmed_text(body_words, stem_language(row.language, default="en")),
        "ts": _micros(row.timestamp),
        "pid": row.id,
    }


def user_document(row: Any) -> dict[str, Any]:
    """The fields indexed for a user row (id, username, about_me)."""
    text_words = words(f"{row.username} {row.about_me or ''}")
    return {
        "id": str(row.id),
        "username": row.username.lower(),
        "text": " ".join(text_words),
        "stemmed": _stemmed_text(text_words, "en"),
        "uid": row.id,
    }


def _post_rows_select() -> sa.Select:
    return sa.select(Post.id, Post.user_id, Post.body, Post.language, Post.timestamp)


def _user_rows_select() -> sa.Select:
    return sa.select(User.id, User.username, User.about_me)


def rows_of(kind: str) -> tuple[sa.Select, Any, Callable[[Any], dict[str, Any]]]:
    """The select of the rows an index of ``kind`` holds, its id column, and the row's document."""
    if kind == POSTS:
        return _post_rows_select(), Post.id, post_document
    return _user_rows_select(), User.id, user_document


# -- keeping the index in the order posts were written -------------------------------------------
def _tail_to_merge(segments: Sequence[Any]) -> list[Any]:
    """The newest segments worth merging: the trailing run where no segment is more than twice as
    large as the ones after it together (so a segment is rewritten about log2(n) times)."""
    tail: list[Any] = []
    size = 0
    for segment in reversed(segments):
        count = segment.doc_count_all()
        if tail and count > 2 * size:
            break
        tail.append(segment)
        size += count
    return tail[::-1] if len(tail) > 1 else []


def _merge_tail(writer: Any, segments: Sequence[Any]) -> list[Any]:
    """A Whoosh merge policy: merge :func:`_tail_to_merge` into the writer's segment, oldest first.

    Whoosh's default policy merges the smallest segments wherever they are and lists the rest by
    size, and a merge adds the merged documents after the writer's own: either would break the
    order searches rely on (see ``_newest_matches`` in whoosh_backend). So writes commit without
    merging, and a writer with no documents of its own then merges the newest segments, in order,
    at the end.
    """
    from whoosh.reading import SegmentReader

    tail = _tail_to_merge(segments)
    for segment in tail:
        writer.add_reader(SegmentReader(writer.storage, writer.schema, segment))
    return list(segments[:len(segments) - len(tail)])


def commit_in_order(ix: Any, writer: Any) -> None:
    """Commit ``writer`` as the newest segment, then merge the newest segments if it is time.

    The merge can wait: when another writer holds the index, its own commit merges after it.
    """
    writer.commit(merge=False)
    if _tail_to_merge(ix._segments()):
        try:
            merger = ix.writer(timeout=MERGE_LOCK_TIMEOUT, compound=False)
        except LockError:
            return
        merger.commit(mergetype=_merge_tail)


def open_index(generation: Path, kind: str) -> Any:
    """The Whoosh index of ``kind`` in ``generation`` (raises what Whoosh raises)."""
    return whoosh_index.open_dir(str(generation), indexname=kind, schema=SCHEMAS[kind])


def _format_of(generation: Path) -> str | None:
    try:
        return (generation / FORMAT).read_text().strip()
    except OSError:
        return None


# -- the folder --------------------------------------------------------------------------------------
class IndexStore:
    """The generations in ``directory`` and the markers that say which one is which."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    # -- state files ---------------------------------------------------------------------------
    def _read_marker(self, name: str) -> Path | None:
        try:
            value = (self.directory / name).read_text().strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not value or "/" in value or value.startswith("."):
            return None
        path = self.directory / value
        return path if path.is_dir() else None

    def _write_marker(self, name: str, generation: Path) -> None:
        temp = self.directory / f".{name}.{uuid.uuid4().hex}"
        temp.write_text(generation.name)
        os.replace(temp, self.directory / name)  # atomic: readers see the old or the new name

    def current(self) -> Path | None:
        """The generation searches read, or None when there is none."""
        return self._read_marker(CURRENT)

    def rebuilding(self) -> Path | None:
        """The generation a live rebuild is filling, or None."""
        marker = self.directory / REBUILDING
        try:
            if time.time() - marker.stat().st_mtime > REBUILD_STALE_SECONDS:
                return None
        except FileNotFoundError:
            return None
        return self._read_marker(REBUILDING)

    def mark_stale(self) -> None:
        """Note that the current generation missed a change: searches refuse it until a rebuild.

        An empty file, so that it can be made on a disk too full for anything else.
        """
        try:
            (self.directory / STALE).touch()
        except OSError:
            log.exception("search: could not mark the index as behind the database")

    def is_stale(self) -> bool:
        return (self.directory / STALE).exists()

    def clear_stale(self, rebuild_started: float) -> None:
        """Forget a failure older than the rebuild that just finished (a later one still counts)."""
        try:
            if (self.directory / STALE).stat().st_mtime < rebuild_started:
                (self.directory / STALE).unlink(missing_ok=True)
        except FileNotFoundError:
            pass

    def targets(self) -> list[Path]:
        """The generations every write goes to: the current one and the one being rebuilt."""
        # REBUILDING is read before CURRENT: a rebuild swaps CURRENT first and removes its marker
        # second, so a writer always sees the new generation in one of the two.
        rebuilding = self.rebuilding()
        current = self.current()
        return list(dict.fromkeys(g for g in (current, rebuilding) if g is not None))

    # -- opening -------------------------------------------------------------------------------
    def open_current(self, kind: str) -> Any:
        """The index of ``kind`` that searches read.

        :raises IndexUnavailable: there is none, it has an older layout, or it cannot be opened.
        """
        generation = self.current()
        if generation is None:
            raise IndexUnavailable("no search index")
        if _format_of(generation) != FORMAT_VERSION:
            raise IndexUnavailable(f"the index in {generation} has an older layout: rebuilding it")
        try:
            return open_index(generation, kind)
        except Exception as exc:  # noqa: BLE001 - any unreadable file means the index is broken
            raise IndexUnavailable(f"cannot open the {kind} index in {generation}: {exc!r}") from exc

    # -- generations ---------------------------------------------------------------------------
    @contextmanager
    def rebuild_lock(self, wait: bool) -> Iterator[bool]:
        """Hold the lock of the one rebuild allowed at a time; yields False when ``wait`` is False
        and another rebuild holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "rebuild.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start_generation(self) -> Path:
        """Create an empty generation, with nothing written yet, and mark it as being rebuilt."""
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        generation = self.directory / f"gen-{stamp}-{uuid.uuid4().hex[:8]}"
        generation.mkdir()
        (generation / FORMAT).write_text(FORMAT_VERSION)
        for kind, schema in SCHEMAS.items():
            whoosh_index.create_in(str(generation), schema, indexname=kind)
            write_progress(generation, kind, 0)
        self._write_marker(REBUILDING, generation)
        return generation

    def still_rebuilding(self) -> None:
        """Show that the rebuild is alive (see REBUILD_STALE_SECONDS)."""
        (self.directory / REBUILDING).touch()

    def make_current(self, generation: Path) -> None:
        """Switch searches to ``generation``."""
        self._write_marker(CURRENT, generation)

    def end_rebuild(self) -> None:
        (self.directory / REBUILDING).unlink(missing_ok=True)

    def discard_generation(self, generation: Path) -> None:
        """Delete a generation a rebuild could not finish."""
        shutil.rmtree(generation, ignore_errors=True)

    def remove_old_generations(self, keep: set[Path | None]) -> None:
        for path in self.directory.glob("gen-*"):
            if path.is_dir() and path not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def clear(self) -> None:
        """Forget the index (tests)."""
        (self.directory / CURRENT).unlink(missing_ok=True)
