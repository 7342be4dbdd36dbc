"""API conversations: edit a post (PATCH), its edit history, and its thread (ancestors, descendants).

Replies are published with ``POST /api/posts`` and ``in_reply_to_id`` (api/posts.py).
"""

from __future__ import annotations

import marshmallow as ma

from microblog import ratelimits
from microblog.api import attachments
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import Blueprint
from microblog.api.schemas import PostSchema, StrictSchema
from microblog.bearer import current_api_user
from microblog.models import SUMMARY_MAX, Post
from microblog.services import posts, threads
from microblog.web import abort_json

bp = Blueprint("api_threads", __name__, url_prefix="/api", description="Conversations: edits and threads")


class EditPostSchema(StrictSchema):
    body = ma.fields.String(metadata={"minLength": 1, "description": "The new text (left out: unchanged)"})
    spoiler_text = ma.fields.String(allow_none=True, metadata={
        "maxLength": SUMMARY_MAX,
        "description": "The new content warning (null or empty: none; left out: unchanged)"})


class PostVersionSchema(ma.Schema):
    body = ma.fields.String(required=True)
    spoiler_text = ma.fields.String(attribute="summary", allow_none=True, required=True)
    written_at = ma.fields.AwareDateTime(required=True,
                                         metadata={"description": "When it started saying this"})
    current = ma.fields.Boolean(required=True)


class PostHistorySchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PostVersionSchema), required=True,
                           metadata={"description": "The current version first, then the earlier ones"})


class ContextSchema(ma.Schema):
    ancestors = ma.fields.List(ma.fields.Nested(PostSchema), required=True,
                               metadata={"description": "The posts it answers, oldest first"})
    descendants = ma.fields.List(ma.fields.Nested(PostSchema), required=True,
                                 metadata={"description": "The replies under it, in thread order"})


def _post_or_404(post_id: int) -> Post:
    """The post, if the caller may see it (``Post.visible_to``), else a 404."""
    post = posts.visible_post(current_api_user(), post_id)
    if post is None:
        abort_json(404)
    return post


@bp.route("/posts/<id:post_id>", methods=["PATCH"])
@token_required
@ratelimits.api_writes
@bp.arguments(EditPostSchema)
@bp.response(200, PostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def edit_post(data, post_id: int):
    """Edit one of your posts; the earlier version is kept in its history."""
    post = _post_or_404(post_id)
    author = current_api_user()
    assert author is not None  # token_required
    summary = data["spoiler_text"] if "spoiler_text" in data else post.summary
    return posts.edit_post(author, post.id, data.get("body", post.body), summary=summary)


@bp.route("/posts/<id:post_id>/history", methods=["GET"])
@bp.response(200, PostHistorySchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_history(post_id: int):
    """A post's current version and its earlier ones, newest first."""
    post = _post_or_404(post_id)
    current = {"body": post.body, "summary": post.summary, "written_at": post.edited_at or post.timestamp,
               "current": True}
    earlier = [{"body": v.body, "summary": v.summary, "written_at": v.written_at, "current": False}
               for v in threads.history(post)]
    return {"items": [current, *earlier]}


@bp.route("/posts/<id:post_id>/context", methods=["GET"])
@bp.response(200, ContextSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_context(post_id: int):
    """A post's thread as the caller may see it: what it answers, and the replies under it."""
    post = _post_or_404(post_id)
    ancestors, descendants = threads.context(current_api_user(), post)
    attachments.prefetch([*ancestors, *descendants])
    return {"ancestors": ancestors, "descendants": descendants}
