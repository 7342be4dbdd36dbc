"""The search box's query syntax, parsed once into a small tree that every backend translates.

Syntax (documented in the README and on the empty search page):

- ``tea coffee``: every word must match (AND);
- ``"green tea"``: the words next to each other, exactly as written (no stemming);
- ``tea OR coffee``: either side (``OR`` in capitals, or ``|``); it binds tighter than the
  implicit AND, so ``morning tea OR coffee`` is morning AND (tea OR coffee);
- ``-word``, ``-"a phrase"``, ``-@user``, ``-#tag``: leave out what matches;
- ``caf*``: words starting with ``caf`` (at least two letters before the ``*``);
- ``@username``: posts by that user; ``#tag``: posts carrying that hashtag.

Nothing the user types is an error: stray quotes close at the end, lone operators are dropped,
control characters become spaces and an over-long query is cut. What was changed is reported in
``ParsedQuery.notices`` so the page can say so; a query left with nothing to look for has
``node is None``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

# A word is a run of letters and digits. The Whoosh analyzer, the highlighter and this parser all
# split text with this one expression; PostgreSQL's parser splits the same way for ordinary words.
WORD_RE = re.compile(r"[^\W_]+")
# A hashtag: '#' not preceded by a word character, then letters, digits or underscores.
TAG_RE = re.compile(r"(?<!\w)#(\w+)")
USERNAME_CHARS_RE = re.compile(r"[A-Za-z0-9_]{1,32}")

MAX_QUERY_CHARS = 256
MAX_TERMS = 16
MIN_PREFIX = 2

# Notices: why the query that ran differs from what was typed.
NOTICE_TRUNCATED = "truncated"
NOTICE_TOO_MANY_TERMS = "too_many_terms"
NOTICE_SHORT_PREFIX = "short_prefix"
NOTICE_ONLY_EXCLUSIONS = "only_exclusions"


# -- the tree ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """One word (lower-case); backends also match its stems."""

    word: str


@dataclass(frozen=True)
class Prefix:
    """Words that start with ``prefix``."""

    prefix: str


@dataclass(frozen=True)
class Phrase:
    """These words, in this order, next to each other, unstemmed."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class Author:
    """Posts by the user named ``username``; the adapter fills in ``user_id`` (None: no such user)."""

    username: str
    user_id: int | None = None


@dataclass(frozen=True)
class Tag:
    """Posts containing ``#name`` (lower-case)."""

    name: str


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Atom = Term | Prefix | Phrase | Author | Tag
Node = Atom | Not | And | Or


@dataclass(frozen=True)
class ParsedQuery:
    """The tree to run (None when nothing is left to look for) and what was changed to get it.

    ``text`` is the query as it was used: control characters blanked, cut to MAX_QUERY_CHARS.
    """

    text: str
    node: Node | None
    notices: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return self.node is None


# -- normalising -----------------------------------------------------------------------------------
def normalize(text: str) -> str:
    """NFKC, case-folded: the form words are indexed and looked up in."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """The words of ``text`` as the index sees them."""
    return WORD_RE.findall(normalize(text))


def tags(text: str) -> list[str]:
    """The hashtags in ``text`` (lower-case, without '#', in order, no repeats)."""
    return list(dict.fromkeys(normalize(tag) for tag in TAG_RE.findall(text)))


# Languages both backends can stem: Whoosh has a Snowball stemmer and PostgreSQL a configuration.
STEM_LANGUAGES = frozenset(
    {"ar", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "no", "pt", "ro", "ru", "sv"}
)


def stem_language(code: str | None, default: str | None = None) -> str | None:
    """The stemming language for a post or page language code (``pt_BR`` -> ``pt``), or None.

    Posts whose language was not detected (mostly short ones) pass ``default="en"``.
    """
    if not code:
        return default
    base = code.replace("-", "_").split("_")[0].lower()
    return base if base in STEM_LANGUAGES else None


def _clean(text: str) -> str:
    # Control characters (NUL included) and other non-printing code points become spaces: they can
    # never be part of a word, and PostgreSQL refuses NUL outright.
    return "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)


# -- tokenizing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # "or", "quoted", "bare"
    text: str = ""
    negated: bool = False


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch == "-" and i + 1 < n and not text[i + 1].isspace():
            negated = True
            i += 1
            ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            end = n if end == -1 else end  # an unbalanced quote closes at the end
            yield _Token("quoted", text[i + 1:end], negated)
            i = end + 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        bare = text[start:i]
        if not negated and bare in ("OR", "|"):
            yield _Token("or")
        elif not negated and bare in ("AND", "&", "&&"):
            continue  # AND is what juxtaposition means anyway
        else:
            yield _Token("bare", bare, negated)


def _atom(token: _Token, notices: set[str]) -> Atom | None:
    """The tree for one token, or None when it holds nothing searchable (``*``, ``-``, ``@``)."""
    if token.kind == "quoted":
        found = words(token.text)
        if not found:
            return None
        # Quotes mean "exactly this": even a single quoted word is matched unstemmed.
        return Phrase(tuple(found))
    raw = token.text
    if raw.startswith("@"):
        match = USERNAME_CHARS_RE.match(raw[1:])
        return Author(match.group(0).lower()) if match else None
    if raw.startswith("#"):
        match = re.match(r"\w+", raw[1:])
        return Tag(normalize(match.group(0))) if match else None
    found = words(raw)
    if not found:
        return None
    if len(found) == 1 and raw.rstrip().endswith("*") and WORD_RE.fullmatch(normalize(raw.rstrip("*"))):
        if len(found[0]) >= MIN_PREFIX:
            return Prefix(found[0])
        notices.add(NOTICE_SHORT_PREFIX)
    if len(found) > 1:
        # "e-mail", "don't", "example.com": the pieces in order, as the index split them.
        return Phrase(tuple(found))
    return Term(found[0])


def parse(text: str | None) -> ParsedQuery:
    """Parse what the user typed into the tree the backends run; never raises."""
    notices: set[str] = set()
    text = _clean(text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.add(NOTICE_TRUNCATED)

    items: list[Node] = []
    pending_or = False
    count = 0
    for token in _tokens(text):
        if token.kind == "or":
            # OR needs something positive on its left; otherwise it is a stray word we drop.
            pending_or = bool(items) and not isinstance(items[-1], Not)
            continue
        node = _atom(token, notices)
        if node is None:
            continue
        if count >= MAX_TERMS:
            notices.add(NOTICE_TOO_MANY_TERMS)
            break
        count += 1
        if token.negated:
            items.append(Not(node))
        elif pending_or and items:
            previous = items.pop()
            siblings = previous.children if isinstance(previous, Or) else (previous,)
            items.append(Or((*siblings, node)))
        else:
            items.append(node)
        pending_or = False

    positives = [item for item in items if not isinstance(item, Not)]
    if not positives:
        if items:
            notices.add(NOTICE_ONLY_EXCLUSIONS)
        return ParsedQuery(text, None, tuple(sorted(notices)))
    items = _dedupe(items)
    tree: Node = items[0] if len(items) == 1 else And(tuple(items))
    return ParsedQuery(text, tree, tuple(sorted(notices)))


def _dedupe(items: list[Node]) -> list[Node]:
    return list(dict.fromkeys(items))


# -- walking the tree --------------------------------------------------------------------------------
def positive_atoms(node: Node | None) -> Iterator[Atom]:
    """The atoms that must or may match (not those under a Not): what the page highlights."""
    if node is None or isinstance(node, Not):
        return
    if isinstance(node, And | Or):
        for child in node.children:
            yield from positive_atoms(child)
    else:
        yield node


def all_atoms(node: Node | None) -> Iterator[Atom]:
    if node is None:
        return
    if isinstance(node, Not):
        yield from all_atoms(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from all_atoms(child)
    else:
        yield node


def map_atoms(node: Node, func) -> Node:
    """A copy of ``node`` with every atom replaced by ``func(atom)``."""
    if isinstance(node, Not):
        return Not(map_atoms(node.child, func))
    if isinstance(node, And | Or):
        return replace(node, children=tuple(map_atoms(child, func) for child in node.children))
    return func(node)


def to_text(node: Node | None) -> str:
    """The tree written back in the query syntax (tests, logs, and the "searched for" line)."""
    if node is None:
        return ""
    if isinstance(node, Term):
        return node.word
    if isinstance(node, Prefix):
        return f"{node.prefix}*"
    if isinstance(node, Phrase):
        return '"' + " ".join(node.words) + '"'
    if isinstance(node, Author):
        return f"@{node.username}"
    if isinstance(node, Tag):
        return f"#{node.name}"
    if isinstance(node, Not):
        return f"-{to_text(node.child)}"
    if isinstance(node, Or):
        return " OR ".join(to_text(child) for child in node.children)
    return " ".join(to_text(child) for child in node.children)
