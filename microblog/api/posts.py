"""API posts: explore, a user's posts, your timeline, publish, read and delete."""

from __future__ import annotations

from flask import url_for

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import NewPostSchema, PaginationArgs, PostListSchema, PostSchema
from microblog.bearer import current_api_user
from microblog.models import Post
from microblog.pagination import post_page
from microblog.services import posts
from microblog.web import abort_json, active_user_or_404

bp = Blueprint("api_posts", __name__, url_prefix="/api", description="Posts and timelines")

def _post_or_404(post_id: int) -> Post:
    """The post, if the caller may see it: a hidden one is a 404 like one that does not exist."""
    post = posts.visible_post(current_api_user(), post_id)
    if post is None:
        abort_json(404)
    return post


@bp.route("/posts", methods=["GET"])
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, PostListSchema)
def get_posts(args):
    """Everyone's posts, newest first (with a bearer token: without the people you blocked)."""
    return page_of(Post.explore_select(current_api_user()), args, keyset=post_page)


@bp.route("/users/<id:user_id>/posts", methods=["GET"])
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, PostListSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_user_posts(args, user_id: int):
    """One user's posts, newest first."""
    user = active_user_or_404(user_id)
    return page_of(user.posts_select(current_api_user()), args, keyset=post_page, total=user.post_count,
                   user_id=user_id)


@bp.route("/timeline", methods=["GET"])
@token_required
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, PostListSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_timeline(args):
    """Your home timeline: your posts and those of people you follow, newest first."""
    return page_of(current_api_user().timeline_select(), args, keyset=post_page)


@bp.route("/posts", methods=["POST"])
@token_required
@ratelimits.api_writes
@ratelimits.posts_per_account
@bp.arguments(NewPostSchema)
@bp.response(201, PostSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
@bp.doc(security=[BEARER])
def create_post(data):
    """Publish a post or a reply (``in_reply_to_id``), maybe behind a content warning, with images you
    uploaded first (``media_ids``; see ``POST /api/media``): the same rules as the web form."""
    post = posts.publish_post(current_api_user(), data["body"], in_reply_to=data.get("in_reply_to_id"),
                              visibility=data.get("visibility"), summary=data.get("spoiler_text"),
                              media_ids=data.get("media_ids") or ())
    return post, 201, {"Location": url_for("api_posts.get_post", post_id=post.id)}


@bp.route("/posts/<id:post_id>", methods=["GET"])
@bp.response(200, PostSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_post(post_id: int):
    """One post (with a bearer token: also your own hidden posts, or any, for moderators)."""
    return _post_or_404(post_id)


@bp.route("/posts/<id:post_id>", methods=["DELETE"])
@token_required
@ratelimits.api_writes
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def delete_post(post_id: int):
    """Delete one of your posts."""
    _post_or_404(post_id)
    posts.delete_post(current_api_user(), post_id)
    return ""
