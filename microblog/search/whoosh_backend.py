"""Whoosh: the embedded search backend, an index folder on a disk that the web and worker processes share.

Every write opens a Whoosh writer with a timeout (another process may be writing) and reads the
rows from the database *while it holds the writer lock*, so whichever writer commits last wrote
what the database held last: no update is lost when processes race. During a rebuild, changes
go to both the current generation and the new one, then the new one replaces the current one.

The folder, its generations, schemas and documents are :mod:`microblog.search.whoosh_store`; the
query tree becomes a Whoosh query in :mod:`microblog.search.whoosh_query`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from whoosh import query as wq
from whoosh.index import LockError
from whoosh.sorting import FieldFacet

from microblog.extensions import db
from microblog.search.backend import RANK_CANDIDATES, IndexUnavailable
from microblog.search.query import Node
from microblog.search.whoosh_query import POST_FIELDS, USER_FIELDS, to_whoosh
from microblog.search.whoosh_store import (
    POSTS,
    USERS,
    IndexStore,
    commit_in_order,
    open_index,
    read_progress,
    rows_of,
    write_progress,
)

log = logging.getLogger(__name__)

# A stretch of newest documents searched is sized to hold this many times the matches still
# wanted (by the query's estimated share of documents, then by the share seen), and at least
# MIN_STRETCH documents.
WINDOW_MARGIN = 1.2
MIN_STRETCH = 64


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
class WhooshBackend:
    """Search and maintain the Whoosh index in ``directory``."""

    name = "whoosh"
    needs_indexing = True

    def __init__(self, directory: str | os.PathLike[str], writer_timeout: float = 60.0) -> None:
        self.store = IndexStore(directory)
        self.writer_timeout = writer_timeout
        self.rank_candidates = RANK_CANDIDATES
        self.min_stretch = MIN_STRETCH
        self._local = threading.local()

    # -- state ---------------------------------------------------------------------------------
    @property
    def directory(self) -> Path:
        return self.store.directory

    def current(self) -> Path | None:
        """The generation searches read, or None when there is none."""
        return self.store.current()

    def rebuilding(self) -> Path | None:
        """The generation a live rebuild is filling, or None."""
        return self.store.rebuilding()

    def is_rebuilding(self) -> bool:
        return self.rebuilding() is not None

    def mark_stale(self) -> None:
        """Note that the current generation missed a change: searches refuse it until a rebuild."""
        self.store.mark_stale()

    def is_stale(self) -> bool:
        return self.store.is_stale()

    def clear(self) -> None:
        """Forget the index (tests)."""
        self.store.clear()

    # -- reading -------------------------------------------------------------------------------
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
            searcher = self.store.open_current(kind).searcher()
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
        if self.current() is not None:
            return False
        select, _id_column, _document = rows_of(kind)
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
        ix = self.store.open_current(kind)
        with ix.searcher() as searcher:
            return {int(fields["id"]) for fields in searcher.all_stored_fields()}

    # -- writing -------------------------------------------------------------------------------
    def sync(self, kind: str, ids: Sequence[int]) -> bool:
        """Make the index agree with the database for these ids (add, update or delete).

        Returns False when there is no index to write to (the caller starts a rebuild).
        :raises IndexUnavailable: the current index could not be written (disk full, another
            writer held it past the timeout, broken files); it is marked stale until a rebuild.
        """
        targets = self.store.targets()
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
        ix = open_index(generation, kind)
        # Waits for other processes' writers instead of failing at once (whoosh's LockError).
        writer = ix.writer(timeout=self.writer_timeout, compound=False)
        try:
            select, id_column, document = rows_of(kind)
            # Read under the lock: the last writer to commit wrote the database's latest state.
            db.session.rollback()
            rows = {row.id: row for row in db.session.execute(select.where(id_column.in_(list(ids))))}
            db.session.rollback()
            # A generation being rebuilt gets only ids the rebuild has passed; it adds the rest itself.
            done_up_to = read_progress(generation, kind)
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
        commit_in_order(ix, writer)

    def remove(self, kind: str, ids: Sequence[int]) -> None:
        """Drop these ids from the index whatever the database says."""
        for generation in self.store.targets():
            ix = open_index(generation, kind)
            writer = ix.writer(timeout=self.writer_timeout, compound=False)
            try:
                for id_ in ids:
                    writer.delete_by_term("id", str(id_))
            except BaseException:
                writer.cancel()
                raise
            commit_in_order(ix, writer)

    # -- rebuilding ----------------------------------------------------------------------------
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
        with self.store.rebuild_lock(wait) as locked:
            if not locked:
                return None
            started = time.time()
            generation = self.store.start_generation()
            counts: dict[str, int] = {}
            previous = self.current()
            try:
                for kind in (USERS, POSTS):
                    counts[kind] = self._fill(generation, kind, batch_size, progress)
                self.store.make_current(generation)
                self.store.clear_stale(started)
            except BaseException:
                self.store.discard_generation(generation)
                raise
            finally:
                self.store.end_rebuild()
                db.session.rollback()
            # The previous generation stays one round, for searches that still have it open.
            self.store.remove_old_generations(keep={generation, previous})
            return counts

    def _fill(self, generation: Path, kind: str, batch_size: int,
              progress: Callable[[str, int], None] | None) -> int:
        ix = open_index(generation, kind)
        select, id_column, document = rows_of(kind)
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
                write_progress(generation, kind, last_id if rows else None)
            except BaseException:
                writer.cancel()
                raise
            if not rows:
                writer.commit(optimize=True)
                return total
            writer.commit(merge=False)
            total += len(rows)
            self.store.still_rebuilding()
            if progress:
                progress(kind, len(rows))
