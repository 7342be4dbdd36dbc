"""API search: the same query syntax and index as /search, for posts and for people."""

from __future__ import annotations

import marshmallow as ma

from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import PaginationArgs, PostListSchema, UserListSchema
from microblog.bearer import current_api_user
from microblog.services import search as search_service
from microblog.web import abort_json

bp = Blueprint("api_search", __name__, url_prefix="/api", description="Full-text search")


class SearchArgs(PaginationArgs):
    q = ma.fields.String(required=True, metadata={
        "description": 'Words (all must match), "a phrase", OR, -word, prefix*, @username, #tag'})
    sort = ma.fields.String(load_default="relevance", validate=ma.validate.OneOf(search_service.SORTS))


def _parsed(args: dict):
    parsed = search_service.parse(args["q"])
    if parsed.is_empty:
        abort_json(422, "There is nothing to search for.", {"query": {"q": ["Add a word to look for."]}})
    return parsed


def _unavailable() -> None:
    abort_json(503, "Search is being rebuilt. Please try again in a few minutes.",
               headers={"Retry-After": "60"})


@bp.route("/search", methods=["GET"])
@bp.arguments(SearchArgs, location="query")
@bp.response(200, PostListSchema)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
def search_posts(args):
    """Posts matching ``q``, best match first (or newest first with ``sort=new``)."""
    parsed = _parsed(args)
    try:
        return page_of(None, args, keyset=lambda _query, per_page, page: search_service.search_posts(
            parsed, page, per_page, args["sort"], None, current_api_user()), q=args["q"], sort=args["sort"])
    except search_service.SearchUnavailable:
        _unavailable()


@bp.route("/search/people", methods=["GET"])
@bp.arguments(SearchArgs, location="query")
@bp.response(200, UserListSchema)
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
def search_people(args):
    """People whose username or about-me matches ``q``, best match first."""
    parsed = _parsed(args)
    try:
        return page_of(None, args, keyset=lambda _query, per_page, page: search_service.search_users(
            parsed, page, per_page), q=args["q"], sort=args["sort"])
    except search_service.SearchUnavailable:
        _unavailable()
