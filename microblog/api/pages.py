"""One pagination helper for every API list: items, _meta and _links (self, next, prev)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request, url_for

from microblog.extensions import db
from microblog.pagination import paginate


def page_of(query: sa.Select, args: dict[str, int], total_query: sa.Select | None = None,
            **url_values: Any) -> dict:
    """One page of ``query`` as the API's list envelope. ``total_query`` counts items, when cheap."""
    page = paginate(query, args["page"], args["per_page"])
    endpoint = request.endpoint or ""

    def link(number: int | None) -> str | None:
        if number is None:
            return None
        return url_for(endpoint, page=number, per_page=page.per_page, **url_values)

    meta: dict[str, int] = {"page": page.page, "per_page": page.per_page}
    if total_query is not None:
        meta["total_items"] = db.session.scalar(total_query) or 0
    return {
        "items": page.items,
        "_meta": meta,
        "_links": {"self": link(page.page), "next": link(page.next_num), "prev": link(page.prev_num)},
    }
