"""API likes, reposts and bookmarks: ``POST`` adds, ``DELETE`` takes back (both harmless when repeated),
and ``GET /api/bookmarks`` lists yours, newest bookmark first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import LinksSchema, MetaSchema, PaginationArgs, PostSchema
from microblog.bearer import current_api_user
from microblog.models import Post, User
from microblog.pagination import requested_position
from microblog.paging import Page, PageNotFound
from microblog.services import reactions
from microblog.web import abort_json

bp = Blueprint("api_reactions", __name__, url_prefix="/api", description="Likes, reposts and bookmarks")


class ReactedPostSchema(PostSchema):
    """A post with its counts and what the caller did to it."""

    reply_count = ma.fields.Integer(required=True)
    like_count = ma.fields.Integer(required=True)
    repost_count = ma.fields.Integer(required=True)
    viewer = ma.fields.Method("viewer_state", required=True, metadata={
        "description": 'What you did to it, among "like", "repost" and "bookmark"',
        "type": "array", "items": {"type": "string", "enum": ["like", "repost", "bookmark"]},
    })

    def viewer_state(self, post: Post) -> list[str]:
        state = reactions.viewer_state(current_api_user(), [post.id])
        return sorted(state.get(post.id, ()))


class BookmarkListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PostSchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


def _caller() -> User:
    """The token's user (the views are ``token_required``)."""
    user = current_api_user()
    assert user is not None
    return user


# (path, method, service, view name, what it does): a post the caller may not see is a 404 and a
# refusal (reposting a followers-only post) a 403, the services' errors as JSON.
REACTIONS: tuple[tuple[str, str, Callable[[User, int], Post], str, str], ...] = (
    ("like", "POST", reactions.like, "add_like", "Like a post (liking twice changes nothing)."),
    ("like", "DELETE", reactions.unlike, "remove_like", "Take your like back (harmless when there is none)."),
    ("repost", "POST", reactions.repost, "add_repost",
     "Repost a post to your followers (a followers-only post is refused: 403)."),
    ("repost", "DELETE", reactions.unrepost, "remove_repost",
     "Take your repost back (harmless when there is none)."),
    ("bookmark", "POST", reactions.bookmark, "add_bookmark", "Keep a post in your private bookmarks."),
    ("bookmark", "DELETE", reactions.unbookmark, "remove_bookmark",
     "Remove a post from your bookmarks (harmless when it is not there)."),
)


def _register(path: str, method: str, action: Callable[[User, int], Post], name: str, summary: str) -> None:
    """One reaction endpoint: ``method /api/posts/<id>/<path>`` calls ``action`` for the token's user."""
    def view(post_id: int) -> Post:
        return action(_caller(), post_id)

    view.__name__ = view.__qualname__ = name
    view.__doc__ = summary
    endpoint: Callable[..., Any] = bp.doc(security=[BEARER])(view)
    for status, response in ((429, "TOO_MANY_REQUESTS"), (404, "NOT_FOUND"), (403, "FORBIDDEN"),
                             (401, "UNAUTHORIZED")):
        endpoint = bp.alt_response(status, response=response)(endpoint)
    endpoint = bp.response(200, ReactedPostSchema)(endpoint)
    bp.route(f"/posts/<id:post_id>/{path}", methods=[method])(token_required(ratelimits.api_writes(endpoint)))


for _reaction in REACTIONS:
    _register(*_reaction)


def _bookmark_keyset(query, per_page: int, page: int = 1) -> Page:
    position = requested_position()
    try:
        return reactions.page_bookmarks(query, per_page, position, 1 if position else page)
    except PageNotFound:
        abort_json(404)


@bp.route("/bookmarks", methods=["GET"])
@token_required
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, BookmarkListSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def get_bookmarks(args):
    """Your bookmarks (private), newest bookmark first."""
    return page_of(reactions.bookmarks_select(_caller()), args, keyset=_bookmark_keyset)
