"""Post cards (``_post.html``) rendered once per content, language, time zone and viewer state, then reused.

Rendering a card (two profile links, an avatar URL, a full localized date, the linkified body, the
reply/like/repost/bookmark controls) is most of the cost of a timeline page. The cache key holds
every column of the post and of its author (but a few that change all the time and never show),
so the key *is* the invalidation: editing or hiding a post, a new like (its count is a column),
renaming its author or changing their address (Gravatar) makes a new key, and the old entry ages
out. Nothing can be stale, so a per-process LRU is enough (a Redis round trip would cost more than
rendering). A card that ever shows more than its post's and author's columns (a related row, a
setting) must add that to the key here.

What differs between viewers is part of the key too, as a few booleans: signed in or not, the
author or not, and which of like/repost/bookmark the viewer did (one statement for the whole page:
``services.reactions.viewer_state``). What differs per request is filled in after the cache: the relative time
("5 minutes ago"), the CSRF token and the page to come back to after pressing a button.

A post that mentions people is rendered with the set of those names that are accounts (only they
become links): the names of every card missing from the cache are looked up in one statement.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from threading import Lock
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from microblog import post_text
from microblog.extensions import db
from microblog.federation.remote_posts import remote_images
from microblog.models import Post, User
from microblog.services import media, reactions
from microblog.templating import timeago
from microblog.timeline import Repost

DEFAULT_SIZE = 2_000
# Stand-ins for the per-request parts while the cached part is rendered (no post can contain NUL:
# bodies refuse control characters, and Jinja escapes nothing but <>&'" anyway).
_AGO = "\x00ago\x00"
_CSRF = "\x00csrf\x00"
_BACK = "\x00back\x00"


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
    app.add_template_global(thread_cards)
    app.add_template_global(post_media)
    app.add_template_global(remote_images)


def known_usernames(names: Iterable[str]) -> frozenset[str]:
    """The lower-cased names among ``names`` (lower-cased already) that are accounts: one statement."""
    wanted = sorted(set(names))
    if not wanted:
        return frozenset()
    lower = sa.func.lower(User.username)
    return frozenset(db.session.scalars(sa.select(lower).where(lower.in_(wanted))))


def post_cards(entries: Iterable[Any]) -> Markup:
    """The cards of ``entries`` (posts, or ``Repost`` entries), as ``{% include "_post.html" %}`` would
    render each, in a ``[data-post-list]`` block: where static/timeline.js adds the cards of the next
    page ("Load more") and the newer ones, and static/compose.js a new post's."""
    return Markup('<div class="post-list" data-post-list>%s</div>') % _card_groups([list(entries)])[0]


def thread_cards(ancestors: Iterable[Any], post: Any,
                 replies: Iterable[Any]) -> tuple[Markup, Markup, Markup]:
    """A permalink's cards: the posts it answers, the post, its replies (those that answer another
    reply indented), rendered together so the viewer's state is read once for them all."""
    ancestors_html, post_html, replies_html = _card_groups([list(ancestors), [post], list(replies)],
                                                           nested_under=post.id)
    return ancestors_html, post_html, replies_html


def _card_groups(groups: list[list[Any]], nested_under: int | None = None,
                 back: str | None = None) -> list[Markup]:
    """The cards of each group of entries; one statement for the viewer's state of them all, and
    one for the mentioned names of the cards missing from the cache. Their buttons come back to
    ``back`` (default: this request's page)."""
    entries = [entry for group in groups for entry in group]
    posts = [entry.post if isinstance(entry, Repost) else entry for entry in entries]
    cache: LRU = current_app.extensions["post_cards"]
    # What every card of this page shares, looked up once (each lookup goes through a context proxy).
    context = (str(get_locale()), str(get_timezone()), request.script_root)
    signed_in = current_user.is_authenticated
    viewer = current_user.id if signed_in else None
    states = reactions.viewer_state(current_user, [post.id for post in posts]) if signed_in else {}
    # The images of the cards that have some, in one statement (none for a page without images).
    attachments = media.media_of_posts([post.id for post in posts if post.media_count])
    post_fields, author_fields = _fields()
    keys = []
    for post in posts:
        author = post.author
        state = frozenset(states.get(post.id, ()))
        shown = tuple(attachments.get(post.id, ()))  # rows of every column: hashable as they are
        keys.append((_values(post_fields, post), _values(author_fields, author), context,
                     signed_in, viewer == post.user_id, state, shown))
    cached = [cache.get(key) for key in keys]
    missing = [post for post, card in zip(posts, cached, strict=True) if card is None]
    if missing:
        names = known_usernames(name for post in missing
                                for name in post_text.mentioned_names(post.body, remote=True))
        for index, (post, card) in enumerate(zip(posts, cached, strict=True)):
            if card is None:
                cached[index] = _render(post, keys[index][5], names, attachments.get(post.id, ()))
                cache.put(keys[index], cached[index])
    csrf = generate_csrf() if signed_in else ""
    back = str(escape(back if back is not None else request.full_path.rstrip("?")))
    rendered = iter(zip(entries, posts, cached, strict=True))
    out = []
    for number, group in enumerate(groups):
        html: list[str] = []
        for entry, post, card in (next(rendered) for _ in group):
            if isinstance(entry, Repost):
                html.append(_repost_label(cache, entry.by, context))
            last_group = number == len(groups) - 1
            nested = nested_under is not None and last_group and post.in_reply_to_id != nested_under
            if nested:
                html.append('<div class="thread-nested ms-4">')
            html.append(card.replace(_AGO, str(escape(timeago(post.timestamp))))
                        .replace(_CSRF, csrf).replace(_BACK, back))
            if nested:
                html.append("</div>")
        out.append(Markup("".join(html)))
    return out


def _repost_label(cache: LRU, username: str, context: tuple[str, str, str]) -> str:
    """"<name> reposted" above a card, cached like the cards."""
    key = ("repost", username, context)
    label = cache.get(key)
    if label is None:
        label = render_template("_repost_label.html", username=username)
        cache.put(key, label)
    return label


# Author columns a card never shows and that change all the time (they would only lower the hit rate).
_VOLATILE_AUTHOR_FIELDS = frozenset({"last_seen", "post_count", "follower_count", "following_count",
                                     "password_hash"})


def _values(fields: Callable[[dict], tuple], instance: Any) -> tuple:
    """The key columns of a loaded instance, straight from its ``__dict__`` (one C call instead of
    twenty attribute reads); an instance whose columns expired (after a commit) loads them first."""
    try:
        return fields(instance.__dict__)
    except KeyError:
        sa.inspect(instance).session.refresh(instance)
        return fields(instance.__dict__)


@cache
def _fields() -> tuple[Callable[[dict], tuple], Callable[[dict], tuple]]:
    """Every column of the post, and of its author but the volatile ones: the cards' cache key, as
    getters of an instance's ``__dict__`` (where a loaded instance keeps its column values).

    All of them, not just those _post.html shows today, so a template change can never serve a
    stale card (a new badge reads a column that is already in the key).
    """
    post_fields = [attr.key for attr in sa.inspect(Post).column_attrs]
    author_fields = [attr.key for attr in sa.inspect(User).column_attrs
                     if attr.key not in _VOLATILE_AUTHOR_FIELDS]
    return operator.itemgetter(*post_fields), operator.itemgetter(*author_fields)


def post_media(post: Any) -> list[Any]:
    """One post's images, for a card rendered outside ``post_cards`` (search results, moderation pages)."""
    return media.media_of_posts([post.id]).get(post.id, []) if post.media_count else []


def post_card(post: Any, back: str | None = None) -> Markup:
    """One post's card (see ``post_cards``), on its own; its buttons come back to ``back`` (default:
    this request's page)."""
    return _card_groups([[post]], back=back)[0]


def _render(post: Any, state: frozenset[str], known_names: frozenset[str], attachments: Sequence[Any]) -> str:
    """The card with stand-ins for the relative time, the CSRF token and the page to come back to."""
    return render_template("_post.html", post=post, ago=Markup(_AGO), csrf=Markup(_CSRF), back=Markup(_BACK),
                           state=state, known_names=known_names, attachments=attachments)
