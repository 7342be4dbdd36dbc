"""PostgreSQL full-text search: stored tsvector columns with GIN indexes, maintained by the database.

Posts carry two generated columns (PostgreSQL only, migration 0012), ``search_simple`` (words as
written: phrases, prefixes, exact words) and ``search_stemmed`` (the post's language's
configuration, English when it was not detected), each with a GIN index: matching, phrase checks and
ranking read the stored vectors instead of parsing the body again for every row. People (a few
thousand rows) keep GIN indexes over the expressions below. Nothing has to be indexed after a
commit: the database keeps its columns and indexes current, and every app server sees the same data.

A query word matches the simple vector or the stemmed vector through English and the searcher's
language. Only the newest ``RANK_CANDIDATES`` matches are ranked by relevance (see
:meth:`PostgresBackend.search_posts`). The columns and indexes themselves are declared in
``microblog.fulltext``, which the models import.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.fulltext import CONFIGS, USER_SIMPLE_SQL, USER_STEMMED_SQL
from microblog.models import Post, User
from microblog.search.backend import RANK_CANDIDATES
from microblog.search.query import (
    And,
    Author,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Tag,
    Term,
    positive_atoms,
    stem_language,
    words,
)

# Searches look among the newest this-many posts first, walking the time index; only when those
# hold too few matches is the rest searched through the GIN indexes alone (see _newest_ids).
RECENT_WINDOW = 50_000
# How long a process reuses the time where the recent window starts.
WINDOW_TTL_SECONDS = 60.0


def _config(name: str) -> Any:
    # A literal, never a bound parameter: the planner must see a constant configuration.
    return sa.text(f"'{name}'::regconfig")


def _vector(expression: str) -> Any:
    return sa.literal_column(expression)


def _matches(vector: Any, tsquery: Any) -> Any:
    return vector.op("@@")(tsquery)


def _term_query(config: str, word: str) -> Any:
    return sa.func.plainto_tsquery(_config(config), sa.literal(word))


def _prefix_query(prefix: str) -> Any:
    # The prefix holds only letters and digits (query.WORD_RE), so quoting it cannot break out.
    return sa.func.to_tsquery(_config("simple"), sa.literal(f"'{prefix}':*"))


def _phrase_query(words: tuple[str, ...]) -> Any:
    return sa.func.phraseto_tsquery(_config("simple"), sa.literal(" ".join(words)))


def _tag_pattern(name: str) -> str:
    # The tag is letters, digits and underscores only; ~* makes the match case-blind.
    return f"(^|[^[:alnum:]_])#{name}([^[:alnum:]_]|$)"


def _languages(language: str | None) -> list[str]:
    return list(dict.fromkeys(c for c in ("en", stem_language(language)) if c))


def _post_vectors() -> tuple[Any, Any]:
    columns = Post.__table__.c
    return columns.search_simple, columns.search_stemmed


def post_condition(node: Node, language: str | None) -> Any:
    """The WHERE clause for the parsed query over posts."""
    simple, stemmed = _post_vectors()
    languages = _languages(language)

    def build(n: Node) -> Any:
        if isinstance(n, Term):
            return sa.or_(
                _matches(simple, _term_query("simple", n.word)),
                *(_matches(stemmed, _term_query(CONFIGS[code], n.word)) for code in languages),
            )
        if isinstance(n, Prefix):
            return _matches(simple, _prefix_query(n.prefix))
        if isinstance(n, Phrase):
            return _matches(simple, _phrase_query(n.words))
        if isinstance(n, Author):
            return sa.false() if n.user_id is None else Post.user_id == n.user_id
        if isinstance(n, Tag):
            # The index narrows to posts with the word; the pattern keeps those with the '#'.
            return sa.and_(
                _matches(simple, _term_query("simple", n.name)),
                Post.body.regexp_match(_tag_pattern(n.name), flags="i"),
            )
        if isinstance(n, Not):
            return sa.not_(build(n.child))
        if isinstance(n, Or):
            return sa.or_(*(build(c) for c in n.children))
        assert isinstance(n, And)
        return sa.and_(*(build(c) for c in n.children))

    return build(node)


def _rank_tsquery(node: Node) -> str | None:
    """One tsquery text ORing every positive word, for ts_rank (words are letters and digits)."""
    parts = []
    for atom in positive_atoms(node):
        if isinstance(atom, Term | Tag):
            parts += [f"'{w}'" for w in atom_words(atom)]
        elif isinstance(atom, Prefix):
            parts.append(f"'{atom.prefix}':*")
        elif isinstance(atom, Phrase):
            parts.append("(" + " <-> ".join(f"'{w}'" for w in atom.words) + ")")
    return " | ".join(dict.fromkeys(parts)) or None


def atom_words(atom: Term | Tag) -> list[str]:
    return words(atom.word if isinstance(atom, Term) else atom.name.replace("_", " "))


def post_rank(node: Node, vector: Any = None) -> Any:
    """Relevance: ts_rank of the words on the simple vector (``vector``: the column to read it from),
    length-normalised (flag 1)."""

    text = _rank_tsquery(node)
    if text is None:
        return sa.literal(0.0)
    vector = _post_vectors()[0] if vector is None else vector
    return sa.func.ts_rank(vector, sa.func.to_tsquery(_config("simple"), text), 1)


def user_condition(node: Node) -> Any:
    """The WHERE clause for the parsed query over people (name and about-me)."""
    simple = _vector(USER_SIMPLE_SQL)
    stemmed = _vector(USER_STEMMED_SQL)

    def build(n: Node) -> Any:
        if isinstance(n, Term):
            return sa.or_(_matches(simple, _term_query("simple", n.word)),
                          _matches(stemmed, _term_query("english", n.word)))
        if isinstance(n, Prefix):
            return _matches(simple, _prefix_query(n.prefix))
        if isinstance(n, Phrase):
            return _matches(simple, _phrase_query(n.words))
        if isinstance(n, Author):
            return sa.func.lower(User.username) == n.username.lower()
        if isinstance(n, Tag):
            return _matches(simple, _term_query("simple", n.name))
        if isinstance(n, Not):
            return sa.not_(build(n.child))
        if isinstance(n, Or):
            return sa.or_(*(build(c) for c in n.children))
        assert isinstance(n, And)
        return sa.and_(*(build(c) for c in n.children))

    return build(node)


class PostgresBackend:
    """Search posts and people with PostgreSQL's full-text search."""

    name = "postgres"
    needs_indexing = False

    filters_visibility = True  # search_posts applies ``visible`` in SQL: pages are always full

    def __init__(self) -> None:
        self.recent_window = RECENT_WINDOW
        self.rank_candidates = RANK_CANDIDATES
        self._window: tuple[float, Any] | None = None  # (when read, start of the recent window)

    def search_posts(self, node: Node, language: str | None, newest: bool, offset: int, limit: int,
                     visible: Any = None) -> list[int]:
        """Ids of matching posts, newest first, or the best of the newest ``rank_candidates`` first.

        ``visible`` (a condition on posts) leaves out what the searcher may not see. Ranking every
        match of a common word (40,000 of a million posts) takes hundreds of milliseconds even on
        stored vectors; the newest thousand rank in a few.
        """
        condition = post_condition(node, language)
        if visible is not None:
            condition = sa.and_(condition, visible)
        if newest:
            found = self._newest(condition, offset + limit)
        else:
            found = self._newest(condition, self.rank_candidates, rank=node)
        found.sort(reverse=True)  # (rank,) time, id: best or newest first
        return [key[-1] for key in found[offset:offset + limit]]

    def _newest(self, condition: Any, count: int, rank: Node | None = None) -> list[tuple]:
        """The newest ``count`` posts that meet ``condition``, as ``([rank,] time, id)`` tuples
        (with their relevance to the query ``rank``, when given).

        The planner would walk the time index backwards and test each post until it has ``count``
        (fast for common words) or gather every match through the GIN indexes and sort them (fast
        for rare words); guessing wrong costs seconds: a query nothing matches walks all posts. So
        the walk is bounded to the newest ``recent_window`` posts, and whatever it did not find is
        looked for among the older posts through the GIN indexes alone.
        """
        start = self._window_start()
        if start is None:
            return self._matches(condition, sa.true(), count, rank, through_gin=False)
        found = self._matches(condition, Post.timestamp >= start, count, rank, through_gin=False)
        if len(found) < count:
            found += self._matches(condition, Post.timestamp < start, count - len(found), rank,
                                   through_gin=True)
        return found

    def _matches(self, condition: Any, bound: Any, count: int, rank: Node | None,
                 through_gin: bool) -> list[tuple]:
        simple, _stemmed = _post_vectors()
        matches = sa.select(Post.id, Post.timestamp, simple).where(condition, bound)
        if through_gin:
            # MATERIALIZED keeps the time index out of it: every match comes from the GIN indexes.
            matches = sa.select(matches.cte("matches").prefix_with("MATERIALIZED"))
        columns = matches.selected_columns
        newest = matches.order_by(columns.timestamp.desc(), columns.id.desc()).limit(count).subquery("newest")
        # Ranked outside the LIMIT: only the rows kept are ranked.
        keys = [newest.c.timestamp, newest.c.id]
        if rank is not None:
            keys.insert(0, post_rank(rank, newest.c.search_simple))
        return [tuple(row) for row in db.session.execute(sa.select(*keys))]

    def _window_start(self) -> Any:
        """The time of the ``recent_window``-th newest post (None: fewer posts), reread each minute."""
        now = time.monotonic()
        if self._window is None or now - self._window[0] > WINDOW_TTL_SECONDS:
            start = db.session.scalar(sa.select(Post.timestamp)
                                      .order_by(Post.timestamp.desc(), Post.id.desc())
                                      .offset(self.recent_window - 1).limit(1))
            self._window = (now, start)
        return self._window[1]

    def search_users(self, node: Node, offset: int, limit: int) -> list:
        """Matching people, best first."""
        text = _rank_tsquery(node)
        rank = (sa.func.ts_rank(_vector(USER_SIMPLE_SQL),
                                sa.func.to_tsquery(_config("simple"), text)) if text else sa.literal(0.0))
        query = (sa.select(User).where(user_condition(node))
                 .order_by(rank.desc(), User.id.desc()).limit(limit).offset(offset))
        return list(db.session.scalars(query))

    def sync(self, kind: str, ids: Any) -> bool:
        return True  # the database maintains its indexes

    def rebuild(self, progress: Any = None, batch_size: int = 0, wait: bool = True) -> dict[str, int]:
        """Nothing to rebuild: ANALYZE refreshes the planner's statistics about the indexes."""
        db.session.execute(sa.text("ANALYZE post"))
        db.session.execute(sa.text('ANALYZE "user"'))
        db.session.commit()
        return {}

    def is_rebuilding(self) -> bool:
        return False
