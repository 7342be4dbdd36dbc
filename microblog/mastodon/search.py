"""Mastodon's search (docs: methods/search): accounts, statuses and hashtags in one answer.

The same index and visibility rules as /search. As Mastodon: ``q`` is required (400); without a user
token there is no status search (an empty list) and neither ``offset`` nor ``resolve`` (401); ``offset``
counts only with a ``type``; an unknown ``type`` finds nothing. With ``resolve`` (a user token), a query
that names one account or post elsewhere (``@user@host``, a URL) is looked up on its server, stored, and
is the answer (federation/resolve.py). The index being rebuilt is a 503 with ``Retry-After``, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint

from microblog.exceptions import NotFound
from microblog.federation import resolve
from microblog.mastodon import entities, tag_entities
from microblog.mastodon.auth import current_user_or_none, mastodon_abort, oauth_optional, params, text_param
from microblog.mastodon.coerce import number, truthy
from microblog.mastodon.listing import parse_id
from microblog.mastodon.paths import route
from microblog.mastodon.status_entity import statuses
from microblog.models import Post, User
from microblog.services import posts, search_slices, tag_search
from microblog.services.search import SearchUnavailable

bp = Blueprint("mastodon_search", __name__)

TYPES = ("accounts", "statuses", "hashtags")
DEFAULT_LIMIT, MAX_LIMIT = 20, 40
# Deeper than anyone pages (search shows its first MAX_RESULTS posts): a larger offset finds nothing.
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class _Asked:
    """What a search request asks for, read as Mastodon reads it."""

    query: str
    types: tuple[str, ...]
    limit: int
    offset: int
    account_id: int | None  # 0: given, but no account's id
    following: bool
    resolve: bool


def _asked(values: dict[str, Any], viewer: User | None) -> _Asked:
    """The request's parameters; 400 without ``q``, 401 for what needs a user token."""
    query = text_param(values, "q")
    if not query or not query.strip():
        mastodon_abort(400, "param is missing or the value is empty: q")
    if viewer is None and values.get("offset") not in (None, ""):
        mastodon_abort(401, "Search queries pagination is not supported without authentication")
    if viewer is None and truthy(values.get("resolve")):
        mastodon_abort(401, "Search queries that resolve remote resources are not supported without "
                            "authentication")
    kind = text_param(values, "type")
    raw_account = values.get("account_id")
    return _Asked(
        query=query,
        types=TYPES if not kind else (kind,) if kind in TYPES else (),
        limit=number(values.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=number(values.get("offset"), 0, 0, MAX_OFFSET) if kind else 0,
        account_id=None if raw_account in (None, "") else parse_id(raw_account) or 0,
        following=viewer is not None and truthy(values.get("following")),
        resolve=viewer is not None and truthy(values.get("resolve")),
    )


def _entities(people: list[User]) -> list[dict[str, Any]]:
    by_id = entities.accounts(people)
    return [by_id[person.id] for person in people]


def _resolved(asked: _Asked, viewer: User, result: dict[str, list]) -> dict[str, list]:
    """The one account or post a handle or URL names, fetched from its server when not known here."""
    found = resolve.resolve(asked.query, viewer)
    if isinstance(found, User) and "accounts" in asked.types and found.deactivated_at is None:
        result["accounts"] = _entities([found])
    elif isinstance(found, Post) and "statuses" in asked.types:
        post = posts.visible_post(viewer, found.id)
        result["statuses"] = statuses(viewer, [post]) if post is not None else []
    return result


@route(bp, "/api/v2/search", methods=["GET"])
@oauth_optional("read:search")
def search():
    """Search (``GET /api/v2/search``): always the three keys, each a list of at most ``limit``."""
    viewer = current_user_or_none()
    asked = _asked(params(), viewer)
    result: dict[str, list] = {"accounts": [], "statuses": [], "hashtags": []}
    if asked.resolve and viewer is not None and not asked.offset and resolve.looks_resolvable(asked.query):
        return _resolved(asked, viewer, result)
    try:
        if "accounts" in asked.types:
            result["accounts"] = _entities(search_slices.people_slice(
                asked.query, asked.offset, asked.limit, viewer if asked.following else None))
        if "statuses" in asked.types and viewer is not None:
            result["statuses"] = statuses(viewer, search_slices.posts_slice(
                asked.query, viewer, asked.offset, asked.limit, asked.account_id))
    except NotFound:
        mastodon_abort(404, "Record not found")
    except SearchUnavailable:
        mastodon_abort(503, "Search is being rebuilt. Please try again in a few minutes.",
                       headers={"Retry-After": "60"})
    if "hashtags" in asked.types:
        found = tag_search.tags_starting_with(asked.query, asked.limit, asked.offset)
        result["hashtags"] = tag_entities.tags(found, signed_in=viewer is not None)
    return result
