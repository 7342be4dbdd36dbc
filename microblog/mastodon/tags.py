"""Mastodon's tags and trends (docs: methods/tags, methods/trends, methods/followed_tags).

A tag's page shows the Tag entity of a tag used in a public post (404 for any other name). Tags cannot
be followed or featured here: following or unfollowing one is a 422 that says so, and the list of
followed tags is empty. Trends are the trending tags of Explore; there are no trending statuses or
links (empty lists).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from microblog.mastodon import tag_entities
from microblog.mastodon.auth import (
    current_user_or_none,
    mastodon_abort,
    oauth_optional,
    oauth_required,
    params,
)
from microblog.mastodon.coerce import number
from microblog.mastodon.paths import route
from microblog.services import tag_search

bp = Blueprint("mastodon_tags", __name__)

NO_FOLLOWED_TAGS = "Following hashtags is not supported on this server"


@route(bp, "/api/v1/tags/<name>", methods=["GET"])
@oauth_optional()
def show_tag(name: str):
    """One tag with its week of history."""
    tag = tag_search.find_tag(name)
    if tag is None:
        mastodon_abort(404, "Record not found")
    return tag_entities.tag(tag, signed_in=current_user_or_none() is not None)


@route(bp, "/api/v1/tags/<name>/follow", methods=["POST"])
@route(bp, "/api/v1/tags/<name>/unfollow", methods=["POST"])
@oauth_required("write:follows", "follow")
def follow_tag(name: str):
    """Following tags is not a feature of this site: a 422 rather than a pretended success."""
    mastodon_abort(422, NO_FOLLOWED_TAGS)


@route(bp, "/api/v1/followed_tags", methods=["GET"])
@oauth_required("read:follows", "follow")
def followed_tags():
    return jsonify([])


@route(bp, "/api/v1/trends", methods=["GET"])
@route(bp, "/api/v1/trends/tags", methods=["GET"])
@oauth_optional()
def trending_tags():
    """The trending tags, most people first: ``limit`` 10 by default, 20 at most, and ``offset``."""
    values = params()
    limit = number(values.get("limit"), 10, 1, 20)
    found = tag_search.trending_tags(limit, number(values.get("offset"), 0, 0, 100))
    return jsonify(tag_entities.tags(found, signed_in=current_user_or_none() is not None))


@route(bp, "/api/v1/trends/statuses", methods=["GET"])
@route(bp, "/api/v1/trends/links", methods=["GET"])
@oauth_optional()
def no_trends():
    """No statuses or links trend here."""
    return jsonify([])
