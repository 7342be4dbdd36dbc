"""Small text checks shared by the services."""

from __future__ import annotations

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
