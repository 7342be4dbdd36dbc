"""PostgreSQL full-text search: tsvector expressions with GIN indexes, maintained by the database.

The models declare GIN indexes over the expressions below (PostgreSQL only), and the queries here
repeat the very same expressions, so the planner answers ``@@`` from those indexes. Nothing has to
be indexed after a commit: the database keeps its indexes current, and every app server sees
the same data.

Two vectors per post, as with Whoosh: ``simple`` (words as written: phrases, prefixes, exact
words) and ``stemmed`` (the post's language's configuration, English when it was not detected).
A query word matches the simple vector or the stemmed vector through English and the searcher's
language. This module imports no model at load time: models.py imports the expressions from here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

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
)

# Text search configurations for the stemming languages (query.STEM_LANGUAGES).
CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish",
    "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
}
# Posts whose language was not detected are stemmed as English; detected languages without a
# configuration (ja, zh_CN, ...) are not stemmed.
_POST_LANGUAGE_CODES = (
    "en", "es", "fr", "de", "pt", "it", "nl", "da", "fi", "hu", "no", "ro", "ru", "sv", "ar",
)


def _config(name: str) -> Any:
    # A literal, never a bound parameter: the planner must see a constant configuration.
    return sa.text(f"'{name}'::regconfig")


# The indexed expressions, written exactly as PostgreSQL prints them back (pg_get_indexdef), so
# that Alembic finds the models and the migrated database identical; models.py indexes them and
# the queries below use the very same text, so the planner matches them to the GIN indexes.
POST_SIMPLE_SQL = "to_tsvector('simple'::regconfig, body::text)"
POST_STEMMED_SQL = (
    "to_tsvector(\nCASE COALESCE(language, 'en'::character varying)\n"
    + "".join(f"    WHEN '{code}'::text THEN '{CONFIGS[code]}'::regconfig\n" for code in _POST_LANGUAGE_CODES)
    + "    ELSE 'simple'::regconfig\nEND, body::text)"
)
_USER_TEXT_SQL = "(username::text || ' '::text) || COALESCE(about_me, ''::character varying)::text"
USER_SIMPLE_SQL = f"to_tsvector('simple'::regconfig, {_USER_TEXT_SQL})"
USER_STEMMED_SQL = f"to_tsvector('english'::regconfig, {_USER_TEXT_SQL})"
# (name, table, expression) of each GIN index, for models.py.
INDEXES = (
    ("ix_post_fts_simple", "post", POST_SIMPLE_SQL),
    ("ix_post_fts_stemmed", "post", POST_STEMMED_SQL),
    ("ix_user_fts_simple", "user", USER_SIMPLE_SQL),
    ("ix_user_fts_stemmed", "user", USER_STEMMED_SQL),
)


def gin_indexes(table: str) -> list[sa.Index]:
    """The full-text indexes of ``table``, created on PostgreSQL only (for ``__table_args__``)."""
    return [
        sa.Index(name, sa.text(expression), postgresql_using="gin").ddl_if(dialect="postgresql")
        for name, table_name, expression in INDEXES
        if table_name == table
    ]


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


def post_condition(node: Node, language: str | None) -> Any:
    """The WHERE clause for the parsed query over posts."""
    from microblog.models import Post

    simple = _vector(POST_SIMPLE_SQL)
    stemmed = _vector(POST_STEMMED_SQL)
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
    from microblog.search.query import words

    return words(atom.word if isinstance(atom, Term) else atom.name.replace("_", " "))


def post_rank(node: Node) -> Any:
    """Relevance: ts_rank of the words on the simple vector, length-normalised (flag 1)."""

    text = _rank_tsquery(node)
    if text is None:
        return sa.literal(0.0)
    return sa.func.ts_rank(_vector(POST_SIMPLE_SQL), sa.func.to_tsquery(_config("simple"), text), 1)


def user_condition(node: Node) -> Any:
    """The WHERE clause for the parsed query over people (name and about-me)."""
    from microblog.models import User

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

    def search_posts(self, node: Node, language: str | None, newest: bool, offset: int, limit: int) -> list:
        """Matching posts (with their authors), best (or newest) first."""
        from microblog.extensions import db
        from microblog.models import Post

        query = sa.select(Post).where(post_condition(node, language))
        if newest:
            query = Post.newest_first(query)
        else:
            query = query.order_by(post_rank(node).desc(), Post.timestamp.desc(), Post.id.desc())
        return list(db.session.scalars(query.limit(limit).offset(offset)).unique())

    def search_users(self, node: Node, offset: int, limit: int) -> list:
        """Matching people, best first."""
        from microblog.extensions import db
        from microblog.models import User

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
        from microblog.extensions import db

        db.session.execute(sa.text("ANALYZE post"))
        db.session.execute(sa.text('ANALYZE "user"'))
        db.session.commit()
        return {}

    def is_rebuilding(self) -> bool:
        return False
