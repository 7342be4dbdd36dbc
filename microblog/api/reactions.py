"""API likes, reposts and bookmarks: ``POST`` adds, ``DELETE`` takes back (both harmless when repeated),
and ``GET /api/bookmarks`` lists yours, newest bookmark first."""

from __future__ import annotations

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


# A post the caller may not see is a 404 and a refusal a 403: the services' errors, as JSON.
@bp.route("/posts/<id:post_id>/like", methods=["POST"])
@token_required
@ratelimits.api_writes
@bp.response(200, ReactedPostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def add_like(post_id: int) -> Post:
    """Like a post (liking twice changes nothing)."""
    return reactions.like(_caller(), post_id)


@bp.route("/posts/<id:post_id>/like", methods=["DELETE"])
@token_required
@ratelimits.api_writes
@bp.response(200, ReactedPostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def remove_like(post_id: int) -> Post:
    """Take your like back (harmless when there is none)."""
    return reactions.unlike(_caller(), post_id)


@bp.route("/posts/<id:post_id>/repost", methods=["POST"])
@token_required
@ratelimits.api_writes
@bp.response(200, ReactedPostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def add_repost(post_id: int) -> Post:
    """Repost a post to your followers (a followers-only post is refused: 403)."""
    return reactions.repost(_caller(), post_id)


@bp.route("/posts/<id:post_id>/repost", methods=["DELETE"])
@token_required
@ratelimits.api_writes
@bp.response(200, ReactedPostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def remove_repost(post_id: int) -> Post:
    """Take your repost back (harmless when there is none)."""
    return reactions.unrepost(_caller(), post_id)


@bp.route("/posts/<id:post_id>/bookmark", methods=["POST"])
@token_required
@ratelimits.api_writes
@bp.response(200, ReactedPostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def add_bookmark(post_id: int) -> Post:
    """Keep a post in your private bookmarks."""
    return reactions.bookmark(_caller(), post_id)


@bp.route("/posts/<id:post_id>/bookmark", methods=["DELETE"])
@token_required
@ratelimits.api_writes
@bp.response(200, ReactedPostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def remove_bookmark(post_id: int) -> Post:
    """Remove a post from your bookmarks (harmless when it is not there)."""
    return reactions.unbookmark(_caller(), post_id)


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
