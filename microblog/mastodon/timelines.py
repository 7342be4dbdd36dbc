"""Mastodon's timelines and lists of statuses (docs: methods/timelines, methods/bookmarks,
methods/favourites, methods/accounts#statuses): home, public, a hashtag's, an account's statuses, the
user's bookmarks and favourites. The queries are the site's own (mastodon/status_lists.py pages them).

There is no federation: every status is local, so ``local`` changes nothing and ``remote=true`` is
empty; there are no lists either (``/timelines/list/:id`` is not found).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint

from microblog.extensions import db
from microblog.mastodon import status_lists
from microblog.mastodon.auth import (
    current_mastodon_user,
    current_user_or_none,
    mastodon_abort,
    oauth_optional,
    oauth_required,
    params,
)
from microblog.mastodon.listing import list_response, parse_id, window
from microblog.mastodon.paths import route
from microblog.mastodon.status_entity import statuses
from microblog.models import Bookmark, Like, Post, Tag, User
from microblog.services import reactions, tags

bp = Blueprint("mastodon_timelines", __name__)
_TRUE = frozenset({"true", "1", "t", "on", "yes"})
# The most tags any[], all[] or none[] may name (Mastodon reads four of each).
MAX_EXTRA_TAGS = 4


def _flag(values: dict[str, Any], name: str) -> bool:
    """A boolean parameter as Rails reads one ("true", "1", true; anything else is false)."""
    value = values.get(name)
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


@route(bp, "/api/v1/timelines/home", methods=["GET"])
@oauth_required("read:statuses")
def home_timeline():
    """The posts of the people the user follows (and their own) and their reposts, newest first."""
    user = current_mastodon_user()
    wanted = window()
    entries = status_lists.home(user, status_lists.resolve(wanted, status_lists.status_key), wanted.limit)
    return list_response(statuses(user, entries))


@route(bp, "/api/v1/timelines/public", methods=["GET"])
@oauth_optional("read:statuses")
def public_timeline():
    """Everyone's public posts (Explore), newest first; ``only_media``; ``remote=true`` has none."""
    values, viewer, wanted = params(), current_user_or_none(), window()
    if _flag(values, "remote"):
        return list_response([])
    query = status_lists.media_only(Post.explore_select(viewer), _flag(values, "only_media"))
    found = status_lists.posts(query, status_lists.resolve(wanted, status_lists.post_key), wanted.limit)
    return list_response(statuses(viewer, found))


def _tag_names(values: dict[str, Any], name: str) -> list[str]:
    """``any[]``, ``all[]`` or ``none[]``: the valid tag names among the first few given."""
    raw = values.get(name)
    listed = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    names = [tags.valid_tag_name(item) for item in listed[:MAX_EXTRA_TAGS] if isinstance(item, str)]
    return [tag for tag in names if tag]


@route(bp, "/api/v1/timelines/tag/<hashtag>", methods=["GET"])
@oauth_optional("read:statuses")
def tag_timeline(hashtag: str):
    """A hashtag's public posts, newest first (``any[]``, ``all[]``, ``none[]``, ``only_media``)."""
    values, viewer, wanted = params(), current_user_or_none(), window()
    name = tags.valid_tag_name(hashtag)
    if name is None or db.session.scalar(sa.select(Tag.id).where(Tag.name == name)) is None:
        mastodon_abort(404, "Record not found")  # the docs: "Hashtag does not exist"
    if _flag(values, "remote"):
        return list_response([])
    any_of, all_of, none_of = (_tag_names(values, key) for key in ("any", "all", "none"))
    media = _flag(values, "only_media")
    query, columns = status_lists.tag_select(name, viewer, any_of, all_of, none_of, media)
    bounds = status_lists.resolve(wanted, status_lists.post_key)
    found = status_lists.posts(query, bounds, wanted.limit, columns)
    return list_response(statuses(viewer, found))


@route(bp, "/api/v1/timelines/list/<list_id>", methods=["GET"])
@oauth_required("read:lists")
def list_timeline(list_id: str):
    """There are no lists: every list is not found."""
    mastodon_abort(404, "Record not found")


def _reacted(model: type[Bookmark] | type[Like], query: sa.Select):
    user, wanted = current_mastodon_user(), window()
    bounds = status_lists.resolve(wanted, status_lists.row_key(model, user))
    found = status_lists.rows(query, (model.created_at, model.id), bounds, wanted.limit)
    first_id, last_id = status_lists.first_and_last(found)
    return list_response(statuses(user, [row[0] for row in found]), first_id, last_id)


@route(bp, "/api/v1/bookmarks", methods=["GET"])
@oauth_required("read:bookmarks")
def get_bookmarks():
    """The user's bookmarked statuses, newest bookmark first (paged by the bookmarks' ids)."""
    return _reacted(Bookmark, reactions.bookmarks_select(current_mastodon_user()))


@route(bp, "/api/v1/favourites", methods=["GET"])
@oauth_required("read:favourites")
def get_favourites():
    """The statuses the user liked, newest like first (paged by the likes' ids)."""
    return _reacted(Like, reactions.likes_select(current_mastodon_user()))


@route(bp, "/api/v1/accounts/<account_id>/statuses", methods=["GET"])
@oauth_optional("read:statuses")
def account_statuses(account_id: str):
    """An account's statuses, newest first: its posts and, as reblog wrappers, its reposts
    (``only_media``, ``exclude_replies``, ``exclude_reblogs``, ``tagged``; ``pinned``: none are)."""
    user_id = parse_id(account_id)
    account = db.session.get(User, user_id) if user_id is not None else None
    if account is None or account.is_deactivated:
        mastodon_abort(404, "Record not found")
    values, viewer, wanted = params(), current_user_or_none(), window()
    if _flag(values, "pinned"):
        return list_response([])
    tagged = values.get("tagged")
    own, reposts = status_lists.account_selects(
        account, viewer, only_media=_flag(values, "only_media"),
        exclude_replies=_flag(values, "exclude_replies"), exclude_reblogs=_flag(values, "exclude_reblogs"),
        tagged_with=tagged if isinstance(tagged, str) else None)
    bounds = status_lists.resolve(wanted, status_lists.status_key)
    return list_response(statuses(viewer, status_lists.merged(own, reposts, account, bounds, wanted.limit)))
