"""The collections a local actor publishes: followers and following (pages of actor ids) and the outbox
(pages of ``Create`` activities of public posts), and the ``Create`` of a post.

Every page is one bounded query: 20 rows (one more to know whether there is a next page), never the
whole list. Followers and following are paged by number (``?page=N``), the outbox by the id of the
last post seen (``?page=true&max_id=<id>``, keyset on the profile's index).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from microblog.extensions import db
from microblog.federation import objects, urls
from microblog.models import Post, User, Visibility, followers

PAGE_SIZE = 20
# Followers pages past this one are refused: a deep OFFSET walks the index that far.
MAX_FOLLOW_PAGE = 5000


def _with_query(uri: str, **params: object) -> str:
    return f"{uri}?{urlencode(params)}"


def create_activity(post: Post, *, with_context: bool = True) -> dict[str, Any]:
    """The ``Create`` of local ``post``: its id is ``/activities/create/<post id>``, its audience the
    Note's."""
    note = objects.note_json(post, with_context=False)
    activity: dict[str, Any] = {
        "id": urls.activity_uri("create", post.id),
        "type": "Create",
        "actor": note["attributedTo"],
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }
    return {"@context": objects.CONTEXT, **activity} if with_context else activity


# -- followers and following ------------------------------------------------------------------
def _follow_rows(user: User, kind: str, page: int) -> list[sa.Row]:
    """Page ``page`` of ``user``'s followers (or followed accounts), newest follow first, plus one row."""
    if kind == "followers":
        mine, theirs = followers.c.followed_id, followers.c.follower_id
    else:
        mine, theirs = followers.c.follower_id, followers.c.followed_id
    query = (sa.select(User.username, User.domain, User.actor_uri)
             .join(followers, theirs == User.id).where(mine == user.id)
             .order_by(followers.c.created_at.desc(), theirs.desc())
             .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    return list(db.session.execute(query))


def _row_actor_id(row: sa.Row) -> str:
    if row.domain is not None and row.actor_uri:
        return str(row.actor_uri)
    return urls.actor_uri(row.username)


def follow_collection(user: User, kind: str) -> dict[str, Any]:
    """The ``OrderedCollection`` of ``user``'s followers (``kind`` "followers") or following: its size
    and a link to its first page."""
    uri = urls.followers_uri(user.username) if kind == "followers" else urls.following_uri(user.username)
    total = user.follower_count if kind == "followers" else user.following_count
    return {"@context": objects.AS, "id": uri, "type": "OrderedCollection", "totalItems": total,
            "first": _with_query(uri, page=1)}


def follow_page(user: User, kind: str, page: int) -> dict[str, Any] | None:
    """Page ``page`` (from 1) of the collection: up to 20 actor ids; None past the last page."""
    if not 1 <= page <= MAX_FOLLOW_PAGE:
        return None
    rows = _follow_rows(user, kind, page)
    if not rows and page > 1:
        return None
    collection = follow_collection(user, kind)
    body: dict[str, Any] = {
        "@context": objects.AS,
        "id": _with_query(collection["id"], page=page),
        "type": "OrderedCollectionPage",
        "totalItems": collection["totalItems"],
        "partOf": collection["id"],
        "orderedItems": [_row_actor_id(row) for row in rows[:PAGE_SIZE]],
    }
    if len(rows) > PAGE_SIZE and page < MAX_FOLLOW_PAGE:
        body["next"] = _with_query(collection["id"], page=page + 1)
    if page > 1:
        body["prev"] = _with_query(collection["id"], page=page - 1)
    return body


# -- the outbox -------------------------------------------------------------------------------
def _in_outbox(user: User) -> sa.ColumnElement[bool]:
    """``user``'s posts the outbox lists: public, not hidden by a moderator, written here."""
    return sa.and_(Post.user_id == user.id, Post.visibility == Visibility.PUBLIC.value,
                   Post.hidden_at.is_(None), Post.uri.is_(None))


def outbox_collection(user: User) -> dict[str, Any]:
    """The outbox: how many public posts, and a link to its first page."""
    uri = urls.outbox_uri(user.username)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(_in_outbox(user)))
    return {"@context": objects.AS, "id": uri, "type": "OrderedCollection", "totalItems": total or 0,
            "first": _with_query(uri, page="true")}


def outbox_page(user: User, max_id: int | None) -> dict[str, Any] | None:
    """A page of the outbox: the ``Create`` of up to 20 public posts, newest first, older than the
    post ``max_id`` when given (None: ``max_id`` is not a post the outbox lists)."""
    query = sa.select(Post).where(_in_outbox(user))
    uri = urls.outbox_uri(user.username)
    page_id = _with_query(uri, page="true")
    if max_id is not None:
        start = db.session.scalar(sa.select(Post.timestamp).where(_in_outbox(user), Post.id == max_id))
        if start is None:
            return None
        older = sa.or_(Post.timestamp < start, sa.and_(Post.timestamp == start, Post.id < max_id))
        query = query.where(older)
        page_id = _with_query(uri, page="true", max_id=max_id)
    shown = list(db.session.scalars(Post.newest_first(query).limit(PAGE_SIZE + 1)))
    body: dict[str, Any] = {
        "@context": objects.CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": uri,
        "orderedItems": [create_activity(post, with_context=False) for post in shown[:PAGE_SIZE]],
    }
    if len(shown) > PAGE_SIZE:
        body["next"] = _with_query(uri, page="true", max_id=shown[PAGE_SIZE - 1].id)
    return body
