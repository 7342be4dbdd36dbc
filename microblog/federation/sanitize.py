"""Remote HTML cut down to a small allow-list (as Mastodon does) before it is stored or shown, and the
plain text of it. Our own parser over the standard library's tokenizer: nothing leaves here but the
tags and attributes listed below, escaped text, and end tags for whatever was left open.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

# Tags kept (with the attributes ``_attributes`` allows); any other tag is dropped and its text kept.
ALLOWED = frozenset({"p", "br", "a", "span", "strong", "em", "b", "i", "u", "del", "s", "code", "pre",
                     "blockquote", "ul", "ol", "li"})
VOID = frozenset({"br"})
# Tags whose content is dropped with them (code, styles, embedded documents, foreign markup).
DROPPED = frozenset({"script", "style", "iframe", "object", "embed", "template", "svg", "math",
                     "noscript", "textarea", "title", "head", "frame", "frameset", "noembed", "xmp"})
# The microformat classes of mentions and hashtags that Mastodon and others put on links and spans.
LINK_CLASSES = frozenset({"mention", "hashtag", "u-url", "h-card"})
SPAN_CLASSES = LINK_CLASSES | {"invisible", "ellipsis"}
SCHEMES = ("http://", "https://", "mailto:")
LINK_REL = "nofollow noopener noreferrer"
# Characters a browser drops from a URL or that no text needs: C0 controls (but tab and newlines in
# text), DEL, C1 controls. NUL never reaches a card (post_cards.py uses it for its stand-ins).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_URL_JUNK = re.compile("[\x00-\x20\x7f-\x9f]")
_BLOCK_BREAKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")


def safe_url(value: str | None) -> str | None:
    """``value`` as a link we may show (http, https or mailto), or None. Whitespace and control
    characters are taken out first, as a browser would (``java&#x09;script:`` is ``javascript:``)."""
    if not value:
        return None
    url = _URL_JUNK.sub("", value)
    return url if url.lower().startswith(SCHEMES) else None


def _classes(value: str | None, allowed: frozenset[str]) -> str | None:
    kept = [name for name in (value or "").split() if name in allowed]
    return " ".join(dict.fromkeys(kept)) or None


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        # The open tags: (name, kept). A link to nowhere is open but not kept: its end tag ends it alone.
        self.open: list[tuple[str, bool]] = []
        self.skipping = 0  # depth inside tags whose content is dropped

    # -- tags ---------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED:
            self.skipping += 1
            return
        if self.skipping:
            return
        if tag not in ALLOWED:
            return
        attributes = self._attributes(tag, dict(attrs))
        if attributes is None:  # a link to nowhere we allow: its text stays, not the link
            self.open.append((tag, False))
            return
        rendered = "".join(f' {name}="{escape(value, quote=True)}"' for name, value in attributes)
        self.out.append(f"<{tag}{rendered}>")
        if tag not in VOID:
            self.open.append((tag, True))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED or self.skipping or tag not in ALLOWED:
            return
        if tag in VOID:
            self.out.append(f"<{tag}>")
        else:  # <p/> means nothing: an empty element at most
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping or tag not in ALLOWED or tag in VOID:
            return
        if not any(name == tag for name, _kept in self.open):
            return  # an end tag nothing opened
        while self.open:
            name, kept = self.open.pop()
            if kept:
                self.out.append(f"</{name}>")
            if name == tag:
                break

    def _attributes(self, tag: str, attrs: dict[str, str | None]) -> list[tuple[str, str]] | None:
        if tag == "a":
            href = safe_url(attrs.get("href"))
            if href is None:
                return None
            kept = [("href", href), ("rel", LINK_REL), ("target", "_blank")]
            classes = _classes(attrs.get("class"), LINK_CLASSES)
            return kept + [("class", classes)] if classes else kept
        if tag == "span":
            classes = _classes(attrs.get("class"), SPAN_CLASSES)
            return [("class", classes)] if classes else []
        return []

    # -- text and the rest --------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(escape(_CONTROL.sub("", data), quote=False))

    # Comments, <!DOCTYPE>, <![CDATA[...]]>, <?...>: nothing of them is kept.
    def handle_comment(self, data: str) -> None:
        pass

    def handle_decl(self, decl: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass

    def result(self) -> str:
        self.close()
        while self.open:  # well-formed whatever came in
            name, kept = self.open.pop()
            if kept:
                self.out.append(f"</{name}>")
        return "".join(self.out)


def clean_html(html: str) -> str:
    """``html`` with only the allowed tags and attributes: links (http, https, mailto) made
    ``rel="nofollow noopener noreferrer"`` and ``target="_blank"``, microformat classes, escaped text;
    scripts, styles and embedded documents dropped with their content; every open tag closed."""
    cleaner = _Cleaner()
    cleaner.feed(html)
    return cleaner.result()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in ("p", "blockquote", "pre", "ul", "ol"):
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("p", "blockquote", "pre", "ul", "ol"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The plain text of ``html``: line breaks for ``<br>`` and paragraphs, entities decoded, no
    control characters, at most one empty line in a row, stripped."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = _CONTROL.sub("", "".join(parser.parts).replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLOCK_BREAKS.sub("\n\n", "\n".join(lines)).strip()
