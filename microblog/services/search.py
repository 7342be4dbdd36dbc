"""Searching posts and people (as Mastodon's SearchService): parse the query, resolve @authors,
apply what the viewer may see, ask the index adapter for ids and load the rows in that order.

The index adapter (:mod:`microblog.search`) knows documents and ids; the rules live here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from microblog import search
from microblog.extensions import db
from microblog.models import Post, User
from microblog.paging import Page
from microblog.search import SearchUnavailable
from microblog.search.backend import RANK_CANDIDATES
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
from microblog.search.query import words as split_words
from microblog.search.stemming import stemmer
from microblog.services import accounts

__all__ = [
    "LIMITS", "MAX_RESULTS", "SORTS", "ParsedQuery", "SearchPage", "SearchUnavailable", "highlighter",
    "parse", "search_posts", "search_users",
]

SORTS = ("relevance", "new")
# What the search page tells people when their query was cut.
LIMITS = {"chars": MAX_QUERY_CHARS, "terms": MAX_TERMS}
# Search shows at most this many posts per query (either order): the page that reaches it says so
# and offers no next page. Ranking or sorting ever deeper costs every search; nobody pages that far.
MAX_RESULTS = RANK_CANDIDATES
# An index that cannot leave out what the viewer may not see is asked for this many more ids than
# the page shows, so that a page stays full when a few of them are hidden or blocked.
OVERFETCH = 10


@dataclass(frozen=True)
class SearchPage(Page):
    """A page of search results; ``capped``: more posts match than search shows (MAX_RESULTS)."""

    capped: bool = False


def _resolve_authors(parsed: ParsedQuery) -> Any:
    """The query tree with each @username's id filled in (None when nobody has that name)."""
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
    if search.filters_visibility():
        found = search.find_post_ids(node, language, newest, offset, wanted + 1, visible)
    else:
        found = _visible_ids(lambda count: search.find_post_ids(node, language, newest, 0, count),
                             visible, offset, wanted + 1)
    more = len(found) > wanted
    last_page = offset + wanted >= MAX_RESULTS
    return SearchPage(items=_load(Post, found[:wanted]), page=page, per_page=per_page,
                      has_next=more and not last_page, capped=more and last_page)


def _visible_condition(viewer: Any) -> Any:
    """The posts ``viewer`` may find: the visibility rule for lists (``Post.visible_to``), public ones."""
    return Post.visible_to(viewer, listing=True, public=True)


def _visible_ids(find: Callable[[int], list[int]], visible: Any, offset: int, count: int) -> list[int]:
    """Ids ``offset`` to ``offset + count`` of what ``find(n)`` (its best ``n`` ids) finds, visible only.

    The index knows nothing of hidden posts and blocks: the database tells which of the ids found
    may be shown (and drops posts deleted since they were indexed); when too few may, the index is
    asked for more (at most three times).
    """
    fetch = offset + count + OVERFETCH
    for _attempt in range(3):
        found = find(fetch)
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
    found = search.find_user_ids(parsed.node, (page - 1) * per_page, per_page + 1)
    # A deactivated account is hidden from everyone (services.account_deletion); its entry stays indexed.
    people = [user for user in _load(User, found[:per_page]) if user.deactivated_at is None]
    return Page(items=people, page=page, per_page=per_page, has_next=len(found) > per_page)


def _load(model: type[Post] | type[User], found: list) -> list:
    """Rows for ids in the order given (the Whoosh backend returns ids; PostgreSQL returns rows)."""
    if not found or not isinstance(found[0], int):
        return found
    loaded: list[Any] = list(db.session.scalars(sa.select(model).where(model.id.in_(found))).unique())
    rows = {row.id: row for row in loaded}
    # An id the database no longer has (deleted since it was indexed) is simply left out.
    return [rows[i] for i in found if i in rows]


# -- highlighting ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Highlighter:
    """Decides which words of a text to mark: the query's words, their stems and prefixes."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    stems: frozenset[tuple[str, str]]  # (language, stem)
    languages: tuple[str, ...]

    def __call__(self, word: str) -> bool:
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
