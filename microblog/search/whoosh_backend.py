"""Whoosh: the embedded search index, a folder on a disk that the web and worker processes share.

Layout of ``WHOOSH_INDEX_DIR``::

    CURRENT            the name of the generation that searches read (written atomically)
    REBUILDING         the generation a rebuild is filling, while it runs
    STALE              present when a write to the current generation failed (disk full, lock
                       held too long): the index is behind the database until the next rebuild
    gen-<time>-<rand>/ one complete index: Whoosh indexes "posts" and "users", and FORMAT (the
                       layout it was built with; one from an older layout is rebuilt on first use)
    rebuild.lock       held by the one rebuild allowed at a time

Every write opens a Whoosh writer with a timeout (another process may be writing) and reads the
rows from the database *while it holds the writer lock*, so whichever writer commits last wrote
what the database held last: no update is lost when processes race. During a rebuild, changes
go to both the current generation and the new one, then the new one replaces the current one.

Stemming: field ``body`` holds the words as written (phrases and prefixes match there); field
``stemmed`` holds the same words stemmed for the post's language (English when it was not
detected, none for languages without a stemmer). How a query reads them: whoosh_query.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import RegexTokenizer
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, TEXT, Schema
from whoosh.index import LockError
from whoosh.sorting import FieldFacet

from microblog.extensions import db
from microblog.models import Post, User
from microblog.search.backend import RANK_CANDIDATES, IndexUnavailable
from microblog.search.query import Node, stem_language, tags, words
from microblog.search.stemming import stemmer
from microblog.search.whoosh_query import POST_FIELDS, USER_FIELDS, to_whoosh

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
# A stretch of newest documents searched is sized to hold this many times the matches still
# wanted (by the query's estimated share of documents, then by the share seen), and at least
# MIN_STRETCH documents.
WINDOW_MARGIN = 1.2
MIN_STRETCH = 64
# Seconds a write waits for the lock to merge segments after its commit (another writer merges).
MERGE_LOCK_TIMEOUT = 1.0
# The text is already split into normalised words (query.words); the analyzer only cuts at spaces.
_ANALYZER = RegexTokenizer(r"\S+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Sort keys are columns only (COLUMN): a NUMERIC field would also index 16 trie terms per value.
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


def _write_progress(generation: Path, kind: str, last_id: int | None) -> None:
    """Record how far a rebuild got (None: finished); written while holding the writer lock."""
    path = _progress_file(generation, kind)
    if last_id is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(str(last_id))


def _read_progress(generation: Path, kind: str) -> float:
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


def _rows(kind: str) -> tuple[sa.Select, Any, Callable[[Any], dict[str, Any]]]:
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
    order searches rely on (see :func:`_newest_matches`). So writes commit without merging, and a
    writer with no documents of its own then merges the newest segments, in order, at the end.
    """
    from whoosh.reading import SegmentReader

    tail = _tail_to_merge(segments)
    for segment in tail:
        writer.add_reader(SegmentReader(writer.storage, writer.schema, segment))
    return list(segments[:len(segments) - len(tail)])


# -- reading the newest matches --------------------------------------------------------------------
def _newest_matches(searcher: Any, q: wq.Query, wanted: int, scored: bool, min_stretch: int) -> list[tuple]:
    """The newest ``wanted`` matches of ``q`` in index order, as ``([score,] time, id)`` tuples.

    Reads each segment from its end (the newest last) in stretches: a matcher skips to the start
    of a stretch through the posting lists' block index, then steps through its matches. The first
    stretch is sized from the query's estimated share of all documents, the next ones from the
    share seen so far (4 times larger while nothing matched).
    """
    context = searcher.context(needs_current=True, top_query=q) if scored else searcher.boolean_context()
    total = max(searcher.doc_count_all(), 1)
    share = min(max(q.estimate_size(searcher.reader()), 1) / total, 1.0)
    stretch = max(int(wanted / share * WINDOW_MARGIN), min_stretch)
    found: list[tuple] = []
    read = matched = 0
    for leaf, _offset in reversed(searcher.leaf_searchers()):
        reader = leaf.reader()
        end = reader.doc_count_all()
        if end == 0:
            # An index with no documents yet (a new site) has an EmptyReader, which has no columns.
            continue
        times, ids = reader.column_reader("ts"), reader.column_reader("pid")
        while end > 0 and len(found) < wanted:
            start = max(end - stretch, 0)
            # The new matcher stands on the segment's first match: found by walking from the start
            # (all of it for a query nothing matches, once), so none there means none at all.
            matcher = q.matcher(leaf, context)
            if not matcher.is_active():
                break
            if matcher.id() < start:
                matcher.skip_to(start)
            chunk = []
            while matcher.is_active() and (docnum := matcher.id()) < end:
                chunk.append((matcher.score(), docnum) if scored else (docnum,))
                matcher.next()
            # The newest of this stretch come last; an older stretch only fills what is missing.
            missing = wanted - len(found)
            found += [(*key[:-1], times[key[-1]], ids[key[-1]]) for key in chunk[-missing:]]
            read, matched = read + end - start, matched + len(chunk)
            missing = wanted - len(found)
            end = start
            stretch = (max(int(missing * read / matched * WINDOW_MARGIN), min_stretch) if matched
                       else stretch * 4)
        if len(found) >= wanted:
            break
    return found


# -- the backend ---------------------------------------------------------------------------------
def _format_of(generation: Path) -> str | None:
    try:
        return (generation / FORMAT).read_text().strip()
    except OSError:
        return None


class WhooshBackend:
    """Search and maintain the Whoosh index in ``directory``."""

    name = "whoosh"
    needs_indexing = True

    def __init__(self, directory: str | os.PathLike[str], writer_timeout: float = 60.0) -> None:
        self.directory = Path(directory)
        self.writer_timeout = writer_timeout
        self.rank_candidates = RANK_CANDIDATES
        self.min_stretch = MIN_STRETCH
        self._local = threading.local()

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

    def is_rebuilding(self) -> bool:
        return self.rebuilding() is not None

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

    def _clear_stale(self, rebuild_started: float) -> None:
        """Forget a failure older than the rebuild that just finished (a later one still counts)."""
        try:
            if (self.directory / STALE).stat().st_mtime < rebuild_started:
                (self.directory / STALE).unlink(missing_ok=True)
        except FileNotFoundError:
            pass

    def _targets(self) -> list[Path]:
        # REBUILDING is read before CURRENT: a rebuild swaps CURRENT first and removes its marker
        # second, so a writer always sees the new generation in one of the two.
        rebuilding = self.rebuilding()
        current = self.current()
        return list(dict.fromkeys(g for g in (current, rebuilding) if g is not None))

    # -- reading -------------------------------------------------------------------------------
    def _open(self, kind: str) -> Any:
        generation = self.current()
        if generation is None:
            raise IndexUnavailable("no search index")
        if _format_of(generation) != FORMAT_VERSION:
            raise IndexUnavailable(f"the index in {generation} has an older layout: rebuilding it")
        try:
            return whoosh_index.open_dir(str(generation), indexname=kind, schema=SCHEMAS[kind])
        except Exception as exc:  # noqa: BLE001 - any unreadable file means the index is broken
            raise IndexUnavailable(f"cannot open the {kind} index in {generation}: {exc!r}") from exc

    def _searcher(self, kind: str) -> Any:
        """This thread's searcher for the current generation, refreshed (cheap when unchanged).

        Opening a reader costs more than most searches, so each thread keeps one; searchers are
        not shared between threads (they seek in open files).
        """
        generation = self.current()
        cache: dict[tuple[Path | None, str], Any] = self._local.__dict__.setdefault("searchers", {})
        searcher = cache.get((generation, kind))
        if searcher is not None and searcher.reader().segments() is None:
            # Whoosh cannot refresh the reader of an index with no segments (an empty index, as on
            # a new site): open a new one, which costs little when there is nothing to read.
            cache.pop((generation, kind)).close()
            searcher = None
        if searcher is None:
            for key in [k for k in cache if k[0] != generation]:
                cache.pop(key).close()
            searcher = self._open(kind).searcher()
        else:
            searcher = searcher.refresh()
        cache[(generation, kind)] = searcher
        return searcher

    def _forget_searchers(self) -> None:
        for searcher in self._local.__dict__.pop("searchers", {}).values():
            try:
                searcher.close()
            except Exception:  # noqa: BLE001 - it was broken already
                pass

    def _nothing_to_search(self, kind: str) -> bool:
        """True when no index was built yet and the database has nothing to put in one (a new site).

        Such a site has no results to give: a rebuild would only write an empty index.
        """
        from microblog.extensions import db

        if self.current() is not None:
            return False
        select, _id_column, _document = _rows(kind)
        return db.session.execute(select.limit(1)).first() is None

    def _search(self, kind: str, q: wq.Query, offset: int, limit: int, newest: bool) -> list[int]:
        if self._nothing_to_search(kind):
            return []
        if self.is_stale():
            # Answering from an index that lost updates would hide posts people know they wrote.
            raise IndexUnavailable("the index missed updates and is being rebuilt")
        try:
            searcher = self._searcher(kind)
            if newest:
                sort_fields = ("ts", "pid") if kind == POSTS else ("uid",)
                facets = [FieldFacet(f, reverse=True) for f in sort_fields]
                results = searcher.search(q, limit=offset + limit, sortedby=facets)
            else:
                results = searcher.search(q, limit=offset + limit)
            return [int(hit["id"]) for hit in results[offset:offset + limit]]
        except IndexUnavailable:
            self._forget_searchers()
            raise
        except Exception as exc:  # noqa: BLE001 - truncated or garbled segment files
            self._forget_searchers()
            raise IndexUnavailable(f"cannot search the {kind} index: {exc!r}") from exc

    def search_posts(
        self, node: Node, language: str | None, newest: bool, offset: int, limit: int
    ) -> list[int]:
        """Ids of matching posts, newest first, or the best of the newest ``rank_candidates`` first.

        Scoring every match of a common word (40,000 of a million posts) costs Whoosh a few hundred
        milliseconds of Python, and its block-quality skipping gains nothing on short posts (every
        block holds a short post that could score best). So only the newest matches are read: the
        index holds posts in the order they were indexed, which is the order they were written
        (an edited post moves to the end, and is still sorted by its own time), and a matcher can
        jump straight to the last documents.
        """
        if self._nothing_to_search(POSTS):
            return []
        try:
            searcher = self._searcher(POSTS)
            wanted = offset + limit if newest else self.rank_candidates
            q = to_whoosh(node, POST_FIELDS, language)
            found = _newest_matches(searcher, q, wanted, scored=not newest, min_stretch=self.min_stretch)
        except IndexUnavailable:
            self._forget_searchers()
            raise
        except Exception as exc:  # noqa: BLE001 - truncated or garbled segment files
            self._forget_searchers()
            raise IndexUnavailable(f"cannot search the {POSTS} index: {exc!r}") from exc
        found.sort(reverse=True)  # (score,) time, id: best or newest first
        return [key[-1] for key in found[offset:offset + limit]]

    def search_users(self, node: Node, offset: int, limit: int) -> list[int]:
        """Ids of matching people, best first (their words are stemmed in English only)."""
        return self._search(USERS, to_whoosh(node, USER_FIELDS), offset, limit, newest=False)

    def document_ids(self, kind: str) -> set[int]:
        """Every id in the index (tests and consistency checks)."""
        ix = self._open(kind)
        with ix.searcher() as searcher:
            return {int(fields["id"]) for fields in searcher.all_stored_fields()}

    # -- writing -------------------------------------------------------------------------------
    def sync(self, kind: str, ids: Sequence[int]) -> bool:
        """Make the index agree with the database for these ids (add, update or delete).

        Returns False when there is no index to write to (the caller starts a rebuild).
        :raises IndexUnavailable: the current index could not be written (disk full, another
            writer held it past the timeout, broken files); it is marked stale until a rebuild.
        """
        targets = self._targets()
        if not targets:
            return False
        current = self.current()
        failure: Exception | None = None
        for generation in targets:
            try:
                self._sync_generation(generation, kind, ids)
            except sa.exc.SQLAlchemyError:
                raise  # the database's problem, not the index's
            except Exception as exc:  # noqa: BLE001
                if generation != current:
                    log.warning("search: could not write ids %s to the generation being rebuilt", ids,
                                exc_info=True)
                    continue
                if isinstance(exc, LockError):
                    log.error("search: index busy for %s s; %s %s not indexed", self.writer_timeout, kind,
                              list(ids))
                self.mark_stale()
                failure = exc
        if failure is not None:
            raise IndexUnavailable(f"cannot write the {kind} index: {failure!r}") from failure
        return True

    def _sync_generation(self, generation: Path, kind: str, ids: Sequence[int]) -> None:
        ix = whoosh_index.open_dir(str(generation), indexname=kind, schema=SCHEMAS[kind])
        # Waits for other processes' writers instead of failing at once (whoosh's LockError).
        writer = ix.writer(timeout=self.writer_timeout, compound=False)
        try:
            select, id_column, document = _rows(kind)
            # Read under the lock: the last writer to commit wrote the database's latest state.
            db.session.rollback()
            rows = {row.id: row for row in db.session.execute(select.where(id_column.in_(list(ids))))}
            db.session.rollback()
            # A generation being rebuilt gets only ids the rebuild has passed; it adds the rest itself.
            done_up_to = _read_progress(generation, kind)
            for id_ in ids:
                if id_ > done_up_to:
                    continue
                row = rows.get(id_)
                if row is None:
                    writer.delete_by_term("id", str(id_))
                else:
                    writer.update_document(**document(row))
        except BaseException:
            writer.cancel()
            raise
        self._commit_in_order(ix, writer)

    def _commit_in_order(self, ix: Any, writer: Any) -> None:
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

    def remove(self, kind: str, ids: Sequence[int]) -> None:
        """Drop these ids from the index whatever the database says."""
        for generation in self._targets():
            ix = whoosh_index.open_dir(str(generation), indexname=kind, schema=SCHEMAS[kind])
            writer = ix.writer(timeout=self.writer_timeout, compound=False)
            try:
                for id_ in ids:
                    writer.delete_by_term("id", str(id_))
            except BaseException:
                writer.cancel()
                raise
            self._commit_in_order(ix, writer)

    # -- rebuilding ----------------------------------------------------------------------------
    @contextmanager
    def _rebuild_lock(self, wait: bool) -> Iterator[bool]:
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

    def rebuild(
        self,
        progress: Callable[[str, int], None] | None = None,
        batch_size: int = 5000,
        wait: bool = True,
    ) -> dict[str, int] | None:
        """Build a new index from the database in batches, then switch searches to it.

        Returns the number of documents per index, or None when another rebuild is running and
        ``wait`` is False.
        """
        with self._rebuild_lock(wait) as locked:
            if not locked:
                return None
            started = time.time()
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            generation = self.directory / f"gen-{stamp}-{uuid.uuid4().hex[:8]}"
            generation.mkdir()
            (generation / FORMAT).write_text(FORMAT_VERSION)
            for kind, schema in SCHEMAS.items():
                whoosh_index.create_in(str(generation), schema, indexname=kind)
                _write_progress(generation, kind, 0)
            self._write_marker(REBUILDING, generation)
            counts: dict[str, int] = {}
            previous = self.current()
            try:
                for kind in (USERS, POSTS):
                    counts[kind] = self._fill(generation, kind, batch_size, progress)
                self._write_marker(CURRENT, generation)
                self._clear_stale(started)
            except BaseException:
                shutil.rmtree(generation, ignore_errors=True)
                raise
            finally:
                (self.directory / REBUILDING).unlink(missing_ok=True)
                db.session.rollback()
            # The previous generation stays one round, for searches that still have it open.
            self._remove_old_generations(keep={generation, previous})
            return counts

    def _fill(self, generation: Path, kind: str, batch_size: int,
              progress: Callable[[str, int], None] | None) -> int:
        ix = whoosh_index.open_dir(str(generation), indexname=kind, schema=SCHEMAS[kind])
        select, id_column, document = _rows(kind)
        last_id, total = 0, 0
        while True:
            # Each batch holds the writer while it reads, like incremental writes (see sync()).
            writer = ix.writer(timeout=self.writer_timeout, limitmb=256, compound=False)
            try:
                db.session.rollback()
                rows = db.session.execute(
                    select.where(id_column > last_id).order_by(id_column).limit(batch_size)
                ).all()
                for row in rows:
                    # add, not update: live writers leave ids past the progress mark to us
                    writer.add_document(**document(row))
                if rows:
                    last_id = rows[-1].id
                _write_progress(generation, kind, last_id if rows else None)
            except BaseException:
                writer.cancel()
                raise
            if not rows:
                writer.commit(optimize=True)
                return total
            writer.commit(merge=False)
            total += len(rows)
            (self.directory / REBUILDING).touch()
            if progress:
                progress(kind, len(rows))

    def _remove_old_generations(self, keep: set[Path | None]) -> None:
        for path in self.directory.glob("gen-*"):
            if path.is_dir() and path not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def clear(self) -> None:
        """Forget the index (tests)."""
        (self.directory / CURRENT).unlink(missing_ok=True)
