"""The parsed query tree (:mod:`microblog.search.query`) as a Whoosh query, for posts and for people.

Posts and people are searched with the same syntax; only the fields differ, so one translator
takes a :class:`Fields` record naming them. A word matches either the word itself (in the text
field, as written) or one of its stems (in the stemmed field): its English stem and its stem in
the searcher's page language.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh import query as wq

from microblog.search.query import And, Author, Node, Not, Or, Phrase, Prefix, Tag, Term, stem_language
from microblog.search.stemming import stems


@dataclass(frozen=True)
class Fields:
    """Which fields of an index each kind of atom is looked up in (see the schemas in whoosh_store).

    ``author_by_name``: ``@name`` matches the author field by lower-case name (people) rather
    than by the user id the search service resolved (posts; an unknown name matches nothing).
    """

    text: str
    stemmed: str
    tags: str
    author: str
    author_by_name: bool


POST_FIELDS = Fields(text="body", stemmed="stemmed", tags="tags", author="user_id", author_by_name=False)
# People have no hashtags of their own: "#tea" looks for the word in their name and about-me.
USER_FIELDS = Fields(text="text", stemmed="stemmed", tags="text", author="username", author_by_name=True)


def _query_languages(language: str | None) -> list[str | None]:
    return list(dict.fromkeys(["en", stem_language(language)]))


def _author(node: Author, fields: Fields) -> wq.Query:
    if fields.author_by_name:
        return wq.Term(fields.author, node.username.lower())
    return wq.NullQuery if node.user_id is None else wq.Term(fields.author, str(node.user_id))


def to_whoosh(node: Node, fields: Fields, language: str | None = None) -> wq.Query:
    """Translate the parsed query into a Whoosh query over the index whose fields are ``fields``.

    ``language`` is the searcher's page language (None: English stems only).
    """
    languages = _query_languages(language)

    def build(n: Node) -> wq.Query:
        if isinstance(n, Term):
            alternatives: list[wq.Query] = [wq.Term(fields.text, n.word)]
            alternatives += [wq.Term(fields.stemmed, s) for s in sorted(stems(n.word, languages))]
            return wq.Or(alternatives)
        if isinstance(n, Prefix):
            return wq.Prefix(fields.text, n.prefix)
        if isinstance(n, Phrase):
            if len(n.words) == 1:
                return wq.Term(fields.text, n.words[0])
            return wq.Phrase(fields.text, list(n.words))
        if isinstance(n, Author):
            return _author(n, fields)
        if isinstance(n, Tag):
            return wq.Term(fields.tags, n.name)
        if isinstance(n, Not):
            return wq.Not(build(n.child))
        if isinstance(n, Or):
            return wq.Or([build(c) for c in n.children])
        assert isinstance(n, And)
        return wq.And([build(c) for c in n.children])

    return build(node)
