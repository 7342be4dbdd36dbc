"""Atom 1.0 documents (RFC 4287) of a list of posts, built with the standard library's ElementTree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.etree import ElementTree as ET

from microblog.external_urls import external_url
from microblog.models import Post
from microblog.templating import linkify
from microblog.timeutil import utcnow

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# An entry's title: the start of its text.
TITLE_LENGTH = 80


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _title(body: str) -> str:
    line = " ".join(body.split())
    return line if len(line) <= TITLE_LENGTH else line[:TITLE_LENGTH - 1].rstrip() + "…"


def atom_feed(title: str, self_url: str, alternate_url: str, posts: Sequence[Post]) -> bytes:
    """The feed: its id is the page it mirrors; each entry's id is the post's permalink.

    ElementTree escapes every text, so the HTML content (``linkify``'s escaped markup) travels as
    escaped text in ``<content type="html">``, as Atom wants.
    """
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", alternate_url)
    _sub(feed, "title", title)
    newest = max((post.edited_at or post.timestamp for post in posts), default=None)
    _sub(feed, "updated", _iso(newest or utcnow()))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    _sub(feed, "generator", "Microblog")
    for post in posts:
        permalink = external_url("main.post", post_id=post.id)
        entry = _sub(feed, "entry")
        _sub(entry, "id", permalink)
        _sub(entry, "title", _title(post.summary or post.body))
        _sub(entry, "published", _iso(post.timestamp))
        _sub(entry, "updated", _iso(post.edited_at or post.timestamp))
        author = _sub(entry, "author")
        _sub(author, "name", post.author.username)
        _sub(author, "uri", external_url("main.user", username=post.author.username))
        _sub(entry, "link", rel="alternate", type="text/html", href=permalink)
        if post.summary:
            _sub(entry, "summary", post.summary)
        _sub(entry, "content", str(linkify(post.body)), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
