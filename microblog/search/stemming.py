"""Stemming for search and highlighting: Whoosh's stemmers by language code, memoised."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from whoosh.lang import has_stemmer, stemmer_for_language


@lru_cache(maxsize=32)
def stemmer(language: str | None) -> Callable[[str], str] | None:
    """Whoosh's stemmer for a stemming language code (memoised: posts reuse words), or None."""
    if language is None or not has_stemmer(language):
        return None
    return lru_cache(maxsize=200_000)(stemmer_for_language(language))


def stems(word: str, languages: Iterable[str | None]) -> set[str]:
    """The stems of ``word`` in these languages (the word itself where there is no stemmer)."""
    found = set()
    for language in languages:
        stem = stemmer(language)
        if stem is not None:
            found.add(stem(word))
    return found
