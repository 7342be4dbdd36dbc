"""Post cards (``_post.html``) rendered once per content, language and time zone, then reused.

Rendering a card (two profile links, an avatar URL, a full localized date, the linkified body) is
most of the cost of a timeline page. The cache key holds every column of the post and of its author
(but a few that change all the time and never show), so the key *is* the invalidation: editing or
hiding a post, renaming its author or changing their address (Gravatar) makes a new key, and the
old entry ages out. Nothing can be stale, so a per-process LRU is enough (a Redis round trip would
cost more than rendering). A card that ever shows more than its post's and author's columns (a
related row, a setting) must add that to the key in ``post_cards``. Two parts stay per request: the
relative time ("5 minutes ago", from ``timeago``) and the delete button on the viewer's own posts (CSRF
token).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from functools import cache
from threading import Lock
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup, escape

from microblog.models import Post, User
from microblog.templating import timeago

DEFAULT_SIZE = 2_000
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
    post_fields, author_fields = _fields()
    for post in posts:
        author = post.author
        key = (tuple(getattr(post, name) for name in post_fields),
               tuple(getattr(author, name) for name in author_fields), context)
        parts = cache.get(key)
        if parts is None:
            parts = _render(post)
            cache.put(key, parts)
        html += (parts[0], escape(timeago(post.timestamp)), parts[1])
        if viewer is not None and viewer == post.user_id:
            html.append(render_template("_post_delete.html", post=post))
        html.append(parts[2])
    return Markup("".join(html))


# Author columns a card never shows and that change all the time (they would only lower the hit rate).
_VOLATILE_AUTHOR_FIELDS = frozenset({"last_seen", "post_count", "follower_count", "following_count",
                                     "password_hash"})


@cache
def _fields() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every column of the post, and of its author but the volatile ones: the cards' cache key.

    All of them, not just those _post.html shows today, so a template change can never serve a
    stale card (a new badge reads a column that is already in the key).
    """
    post_fields = tuple(attr.key for attr in sa.inspect(Post).column_attrs)
    author_fields = tuple(attr.key for attr in sa.inspect(User).column_attrs
                          if attr.key not in _VOLATILE_AUTHOR_FIELDS)
    return post_fields, author_fields


def post_card(post: Any) -> Markup:
    """One post's card (see ``post_cards``)."""
    return post_cards((post,))


def _render(post: Any) -> tuple[str, str, str]:
    """The card without its per-request parts: the text before the time, up to the owner's form, after it."""
    html = render_template("_post.html", post=post, ago=Markup(_AGO), owner_slot=Markup(_OWNER))
    before, rest = html.split(_AGO)
    middle, after = rest.split(_OWNER)
    return before, middle, after
