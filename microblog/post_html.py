"""A post's plain text as HTML for other programs (Mastodon apps, ActivityPub servers): paragraphs,
line breaks, links, mentions and hashtags, every link absolute. The pages render their own cards."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app
from markupsafe import escape

from microblog.templating import linkify

_RELATIVE_HREF_RE = re.compile(r'href="/')


def text_html(body: str, mentioned: Iterable[str] = ()) -> str:
    """Plain text (a post's, a private message's) as Mastodon's HTML, escaped: paragraphs, ``<br />``
    line breaks, links; mentions of accounts that exist and every hashtag linked (classes ``mention``
    and ``hashtag``), absolute."""
    known = frozenset(name.lower() for name in mentioned)
    site = current_app.config["SITE_URL"].rstrip("/")
    text = body.replace("\r\n", "\n").strip()
    paragraphs = [part.strip() for part in text.split("\n\n") if part.strip()]
    html = "".join("<p>" + str(linkify(part, known)).replace("\n", "<br />") + "</p>" for part in paragraphs)
    html = html.replace('class="hashtag"', 'class="mention hashtag"')
    return _RELATIVE_HREF_RE.sub(f'href="{escape(site)}/', html)
