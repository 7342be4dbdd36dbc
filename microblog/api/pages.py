"""One pagination helper for every API list: items, _meta and _links (self, next, prev)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import request, url_for

from microblog.api import attachments
from microblog.extensions import db
from microblog.pagination import Page, paginate, self_args


def page_of(query: sa.Select, args: dict[str, Any], total_query: sa.Select | None = None,
            keyset: Callable[..., Page] | None = None, total: int | None = None, **url_values: Any) -> dict:
    """One page of ``query`` as the API's list envelope.

    ``keyset`` (``pagination.post_page`` or ``pagination.follow_page``) pages a long list by cursor:
    ``_links.next`` carries ``before=<cursor>``, and ``page=N`` still works. ``total`` (or
    ``total_query``, when counting is cheap) fills ``_meta.total_items``. The images of a page of posts
    are read here, at once, for the post schema.
    """
    if keyset is not None:
        page = keyset(query, args["per_page"], page=args["page"])
    else:
        page = paginate(query, args["page"], args["per_page"])
    endpoint = request.endpoint or ""

    def link(page_args: dict[str, Any]) -> str | None:
        if not page_args:
            return None
        return url_for(endpoint, **page_args, per_page=page.per_page, **url_values)

    meta: dict[str, int] = {"page": page.page, "per_page": page.per_page}
    if total is None and total_query is not None:
        total = db.session.scalar(total_query) or 0
    if total is not None:
        meta["total_items"] = total
    attachments.prefetch(page.items)  # a page of posts: their images in one statement
    return {
        "items": page.items,
        "_meta": meta,
        "_links": {"self": link(self_args(page)), "next": link(page.next_args), "prev": link(page.prev_args)},
    }
