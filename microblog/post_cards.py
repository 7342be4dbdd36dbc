"""Post cards (``_post.html``) rendered once per content, language and time zone, then reused.

Rendering a card (two profile links, an avatar URL, a full localized date, the linkified body) is
most of the cost of a timeline page. A card's HTML depends only on what its cache key holds, so the
key *is* the invalidation: editing a post, renaming its author or changing their address (Gravatar)
makes a new key, and the old entry ages out. Nothing can be stale, so a per-process LRU is enough
(a Redis round trip would cost more than rendering). Two parts stay per request: the relative time
("5 minutes ago", from ``timeago``) and the delete button on the viewer's own posts (CSRF token).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock
from typing import Any

from flask import Flask, current_app, render_template, request
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup, escape

from microblog.templating import timeago

DEFAULT_SIZE = 5_000
# Stand-ins for the per-request parts while the cached part is rendered (no post can contain NUL:
# bodies refuse control characters, and Jinja escapes nothing but <>&'" anyway).
_AGO = "\x00ago\x00"
_OWNER = "\x00owner\x00"


class LRU:
    """A small least-recently-used map, safe to share between a worker's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def init_app(app: Flask) -> None:
    app.extensions["post_cards"] = LRU(int(app.config.get("POST_CARD_CACHE_SIZE", DEFAULT_SIZE)))
    app.add_template_global(post_card)
    app.add_template_global(post_cards)


def post_cards(posts: Iterable[Any]) -> Markup:
    """The cards of ``posts``, as ``{% for post in posts %}{% include "_post.html" %}`` would render them."""
    cache: LRU = current_app.extensions["post_cards"]
    # What every card of this page shares, looked up once (each lookup goes through a context proxy).
    context = (str(get_locale()), str(get_timezone()), request.script_root)
    viewer = current_user.id if current_user.is_authenticated else None
    html: list[str] = []
    for post in posts:
        author = post.author
        key = (post.id, post.body, post.language, post.timestamp, author.id, author.username, author.email,
               context)
        parts = cache.get(key)
        if parts is None:
            parts = _render(post)
            cache.put(key, parts)
        html += (parts[0], escape(timeago(post.timestamp)), parts[1])
        if viewer is not None and viewer == post.user_id:
            html.append(render_template("_post_delete.html", post=post))
        html.append(parts[2])
    return Markup("".join(html))


def post_card(post: Any) -> Markup:
    """One post's card (see ``post_cards``)."""
    return post_cards((post,))


def _render(post: Any) -> tuple[str, str, str]:
    """The card without its per-request parts: the text before the time, up to the owner's form, after it."""
    html = render_template("_post.html", post=post, ago=Markup(_AGO), owner_slot=Markup(_OWNER))
    before, rest = html.split(_AGO)
    middle, after = rest.split(_OWNER)
    return before, middle, after
