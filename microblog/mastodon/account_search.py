"""GET /api/v1/accounts/search: accounts whose name starts with the query (what a client's @-mention
completion asks for), then those whose name or about-me the people search finds, without repeats.

A local address (``@name``, ``name@ourhost``) is searched as its name; another server's address finds
nothing (no federation here, so ``resolve`` has nothing to resolve). ``following`` keeps the accounts
the viewer follows.
"""

from __future__ import annotations

import sqlalchemy as sa

from microblog.extensions import db
from microblog.mastodon.account_support import local_username, visible
from microblog.models import User, followers
from microblog.search.query import parse
from microblog.services import search, users_query

# Past this many results (offset + limit) the search answers nothing more: nobody pages that deep.
MOST = 200


def find_accounts(viewer: User, q: str, limit: int, offset: int, following: bool = False) -> list[User]:
    """The ``limit`` accounts after the first ``offset`` that ``q`` finds for ``viewer``; the name
    matches alone while the people index is down (a rebuild is under way)."""
    wanted = offset + limit
    name = local_username(q)
    if name is None or not name.strip() or wanted > MOST:
        return []
    found: dict[int, User] = {}
    by_name = users_query.username_prefix_select(name, limit=wanted)
    if by_name is not None:
        by_name = by_name.where(User.deactivated_at.is_(None))
        if following:
            by_name = by_name.where(User.id.in_(
                sa.select(followers.c.followed_id).where(followers.c.follower_id == viewer.id)))
        found.update((user.id, user) for user in db.session.scalars(by_name))
    if len(found) < wanted:
        try:
            page = search.search_users(parse(name), 1, wanted)
        except search.SearchUnavailable:
            return list(found.values())[offset:wanted]
        people = [user for user in page.items if visible(user) and user.id not in found]
        if following and people:
            followed = set(db.session.scalars(sa.select(followers.c.followed_id).where(
                followers.c.follower_id == viewer.id,
                followers.c.followed_id.in_([user.id for user in people]))))
            people = [user for user in people if user.id in followed]
        found.update((user.id, user) for user in people)
    return list(found.values())[offset:wanted]
