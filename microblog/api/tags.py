"""API hashtags and mutes: a tag's posts, the trending tags, muting and unmuting people, your mutes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import url_for

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import PaginationArgs, PostListSchema, UserListSchema
from microblog.bearer import current_api_user, signed_in_api_user
from microblog.pagination import requested_position
from microblog.paging import Page, PageNotFound
from microblog.services import mutes, tags
from microblog.web import abort_json, active_user_or_404

bp = Blueprint("api_tags", __name__, url_prefix="/api", description="Hashtags and mutes")


class TrendingTagSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"description": "The tag, normalized, without #"})
    people = ma.fields.Integer(required=True, metadata={"description": "People using it in 24 hours"})
    _links = ma.fields.Method("links", required=True)

    def links(self, item: tags.TrendingTag) -> dict[str, str]:
        return {"posts": url_for("api_tags.get_tag_posts", name=item.name),
                "html": url_for("tags.tag", name=item.name)}


class TrendingListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TrendingTagSchema), required=True)


def _tag_keyset(query: sa.Select, per_page: int, page: int = 1) -> Page:
    """``tags.tag_page`` at the request's cursor, else at page ``page``; 404 past the end."""
    position = requested_position()
    try:
        return tags.tag_page(query, per_page, position, 1 if position else page)
    except PageNotFound:
        abort_json(404)


@bp.route("/tags/trending", methods=["GET"])
@bp.response(200, TrendingListSchema)
def get_trending_tags() -> dict[str, Any]:
    """The tags used by the most distinct people in public posts of the last 24 hours."""
    return {"items": tags.trending(10)}


@bp.route("/tags/<name>", methods=["GET"])
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, PostListSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_tag_posts(args, name: str):
    """The public posts with this hashtag (any case), newest first (with a bearer token: without the
    people you blocked or muted). A name that cannot be a tag is a 404."""
    tag_name = tags.valid_tag_name(name)
    if tag_name is None:
        abort_json(404)
    query = tags.tag_page_select(tag_name, current_api_user())
    return page_of(query, args, keyset=_tag_keyset, name=tag_name)


@bp.route("/users/<id:user_id>/mute", methods=["POST"])
@token_required
@ratelimits.api_writes
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.doc(security=[BEARER])
def mute_user(user_id: int):
    """Mute this user: their posts and notifications leave your lists (muting twice is harmless,
    muting yourself is refused). They are not told."""
    mutes.mute(signed_in_api_user(), active_user_or_404(user_id))
    return ""


@bp.route("/users/<id:user_id>/mute", methods=["DELETE"])
@token_required
@ratelimits.api_writes
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def unmute_user(user_id: int):
    """Lift a mute (harmless when there is none)."""
    mutes.unmute(signed_in_api_user(), active_user_or_404(user_id))
    return ""


@bp.route("/mutes", methods=["GET"])
@token_required
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, UserListSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_mutes(args):
    """The people you muted, by name."""
    return page_of(mutes.muted_select(signed_in_api_user()), args)
