"""Small text checks shared by the services, the web forms and the API schemas."""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069). An unclosed one
# reverses or reorders the text after it, the trick behind "photo[U+202E]gpj.exe". Right-to-left
# scripts do not need them; the LRM/RLM marks (U+200E, U+200F) stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_characters(text: str) -> bool:
    """True for NUL and other C0 controls (but not newlines and tabs), DEL, C1 controls and bidi controls."""
    return any(
        (ord(ch) < 32 and ch not in "\n\r\t") or 0x7F <= ord(ch) <= 0x9F or ch in _BIDI_CONTROLS
        for ch in text
    )


# Characters that draw nothing: controls, format characters (zero-width space and joiners, BOM,
# word joiner, soft hyphen, bidi marks, tag characters), separators, combining marks on their own
# (variation selectors, the combining grapheme joiner), and surrogates.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
# Letters and symbols that Unicode classes as ordinary but that render as blank space: the Hangul
# fillers (U+115F, U+1160, U+3164, U+FFA0) and the blank Braille pattern (U+2800).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_character(text: str) -> bool:
    """True when ``text`` holds at least one character that draws something.

    A text made only of whitespace, zero-width characters, fillers and lone combining marks looks
    empty; one visible character among them (an emoji joined with ZWJ, a letter with its accent) is
    enough.
    """
    return any(_draws_something(ch) for ch in text)


def _draws_something(ch: str) -> bool:
    return not (ch.isspace() or ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES)


def has_lone_surrogates(text: str) -> bool:
    """True when ``text`` holds a UTF-16 surrogate that is not part of a pair.

    JSON lets a client send one as an escape (``"\\ud800"``) and Python keeps it in the string, but
    it has no UTF-8 form: PostgreSQL's driver, SQLite and password hashing all fail on it. (A
    correct pair, ``"\\ud83d\\ude00"``, is decoded to the one character it stands for.)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def invalid_character_message() -> str:
    """What the API and the web forms say about text with a lone surrogate."""
    return _("This text contains an invalid character (a lone surrogate). Please remove it.")
