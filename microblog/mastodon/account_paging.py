"""Lists of accounts through an edge table (followers, following, blocks, mutes), newest edge first,
paged the Mastodon way (``max_id``/``since_id``/``min_id``, see listing.py).

Our edges have no id of their own (a follow is the pair of accounts), so a page's paging ids are the
listed accounts' ids, and the list resolves an id to its edge's (time, account id) key: the page below
``max_id=5`` is the one below the moment the viewer's list gained account 5. An id whose edge is gone
(an unfollow since the page was read) names no entry and is ignored, as listing.py ignores an id that
is no number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Response

from microblog.extensions import db
from microblog.mastodon import entities
from microblog.mastodon.listing import Window, list_response
from microblog.models import ID_MAX, Block, FollowRequest, Mute, User, followers


@dataclass(frozen=True)
class Edges:
    """One account's edges of one kind: ``table`` joined on ``other`` (the listed account's id),
    limited by ``owner``, ordered by ``created``."""

    table: Any
    created: Any
    other: Any
    owner: sa.ColumnElement[bool]


def followers_of(user: User) -> Edges:
    return Edges(followers, followers.c.created_at, followers.c.follower_id,
                 followers.c.followed_id == user.id)


def following_of(user: User) -> Edges:
    return Edges(followers, followers.c.created_at, followers.c.followed_id,
                 followers.c.follower_id == user.id)


def blocked_by(user: User) -> Edges:
    return Edges(Block, Block.created_at, Block.blocked_id, Block.blocker_id == user.id)


def muted_by(user: User) -> Edges:
    return Edges(Mute, Mute.created_at, Mute.muted_id, Mute.muter_id == user.id)


def requests_to(user: User) -> Edges:
    """The accounts that asked to follow ``user`` and wait for the answer."""
    return Edges(FollowRequest, FollowRequest.created_at, FollowRequest.follower_id,
                 FollowRequest.followed_id == user.id)


def _key(edges: Edges, ident: int | None) -> tuple[Any, int] | None:
    if ident is None or ident > ID_MAX:
        return None
    query = sa.select(edges.created, edges.other).where(edges.owner, edges.other == ident)
    row = db.session.execute(query).first()
    return (row[0], row[1]) if row is not None else None


def _below(edges: Edges, key: tuple[Any, int]) -> sa.ColumnElement[bool]:
    return sa.or_(edges.created < key[0], sa.and_(edges.created == key[0], edges.other < key[1]))


def _above(edges: Edges, key: tuple[Any, int]) -> sa.ColumnElement[bool]:
    return sa.or_(edges.created > key[0], sa.and_(edges.created == key[0], edges.other > key[1]))


def accounts_page(edges: Edges, window: Window) -> list[User]:
    """The visible accounts of ``edges`` that ``window`` asks for, newest edge first, in one statement
    (and one index read per paging id)."""
    query = (sa.select(User).join(edges.table, edges.other == User.id)
             .where(edges.owner, User.deactivated_at.is_(None)))
    upper = _key(edges, window.max_id)
    if upper is not None:
        query = query.where(_below(edges, upper))
    lower = _key(edges, window.min_id if window.upward else window.since_id)
    if lower is not None:
        query = query.where(_above(edges, lower))
    if window.upward and lower is not None:
        found = list(db.session.scalars(query.order_by(edges.created.asc(), edges.other.asc())
                                        .limit(window.limit)))
        return found[::-1]
    query = query.order_by(edges.created.desc(), edges.other.desc())
    return list(db.session.scalars(query.limit(window.limit)))


def edges_response(edges: Edges, window: Window) -> Response:
    """The page of ``edges`` that ``window`` asks for, as Account entities with a Link header."""
    return accounts_response(accounts_page(edges, window))


def accounts_response(people: list[User]) -> Response:
    """A page of Account entities with its Link header (paging ids: the accounts' ids)."""
    found = entities.accounts(people)
    return list_response([found[user.id] for user in people])
