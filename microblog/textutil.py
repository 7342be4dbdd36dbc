"""Small text checks shared by the services."""

from __future__ import annotations


def has_control_characters(text: str) -> bool:
    """True for NUL and other control characters other than newlines and tabs."""
    return any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text)
