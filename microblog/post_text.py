"""Mentions (``@name``) and hashtags (``#tag``) in a post's text: finding them and naming tags.

One definition serves the services (which people to notify, which tags to file a post under) and
the templates (which words become links), so a link is shown exactly for what was filed.

- A mention is ``@`` and a username (letters, digits, underscore: the registration rule), not
  preceded by a letter, digit, ``@``, ``/`` or ``.`` (so ``me@example.com`` and URLs are not
  mentions). ``@name@host`` (a host with a dot, maybe a port) mentions an account of another server:
  its name is ``name@host``, the username of the stored remote account.
- A hashtag is ``#`` and letters, digits, combining marks and underscores of any script, with at
  least one letter, not preceded by an ASCII letter, digit, ``&``, ``/`` or ``#`` (``C#``, ``&#39;``
  and URL fragments are not tags; ``今日は#お茶`` is one, as scripts without spaces need). Tags are
  compared case-blind after NFKC normalization: ``#Tea``, ``#TEA`` and ``#ｔｅａ`` are one tag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from microblog.models.limits import USERNAME_MAX
from microblog.models.tags import TAG_MAX

# Combining marks that Python's \w leaves out: Arabic harakat, Devanagari vowel signs, kana voicing
# marks, zero-width (non-)joiners used inside Persian and Indic words.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4"
    "\u06e7\u06e8\u06ea-\u06ed\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963\u0e31\u0e34-\u0e3a"
    "\u0e47-\u0e4e\u3099\u309a\u200c\u200d"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?"  # a host with a dot, maybe a port
MENTION_RE = re.compile(
    rf"(?<![A-Za-z0-9_@/.])@([A-Za-z0-9_]{{1,{USERNAME_MAX}}}(?:@{_HOST})?)(?![A-Za-z0-9_@])")
TAG_RE = re.compile(rf"(?<![A-Za-z0-9_&/#])#((?:\w|[{_MARKS}])+)")


def normalize_tag(name: str) -> str:
    """The name a tag is filed under: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def _is_tag(name: str) -> bool:
    return len(name) <= TAG_MAX and any(ch.isalpha() for ch in name)


def iter_tokens(text: str) -> Iterator[tuple[int, int, str, str]]:
    """The mentions and hashtags of ``text`` in order: (start, end, kind, name) with kind ``"@"`` or
    ``"#"``; ``name`` is the username as written, or the tag as written (not normalized)."""
    found = [(m.start(), m.end(), "@", m.group(1)) for m in MENTION_RE.finditer(text)]
    found += [(m.start(), m.end(), "#", m.group(1)) for m in TAG_RE.finditer(text) if _is_tag(m.group(1))]
    found.sort()
    last = 0
    for start, end, kind, name in found:
        if start >= last:  # "#a@b": whichever starts first wins
            yield start, end, kind, name
            last = end


def mentioned_names(text: str, *, remote: bool = False) -> list[str]:
    """The usernames ``text`` mentions, lower-cased, each once, in order; with ``remote``, the
    ``name@host`` of other servers' accounts too (a post can mention them, a message cannot)."""
    names: dict[str, None] = {}
    for _start, _end, kind, name in iter_tokens(text):
        if kind == "@" and (remote or "@" not in name):
            names.setdefault(name.lower())
    return list(names)


def tag_names(text: str) -> list[str]:
    """The tags of ``text``, normalized, each once, in order."""
    names: dict[str, None] = {}
    for _start, _end, kind, name in iter_tokens(text):
        if kind == "#":
            names.setdefault(normalize_tag(name))
    return list(names)
