"""Conversations: the posts a post answers (its ancestors) and the replies under it, as one viewer may
see them, in two statements whatever the thread's size; and a post's edit history."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.models import Post, PostEdit, User, Visibility

# How far up a conversation the permalink looks, and how deep and how many replies it shows: the
# first REPLIES_SHOWN (the nearest levels first), and up to MAX_REPLIES when asked for all of them.
MAX_ANCESTORS = 40
MAX_DEPTH = 40
MAX_REPLIES = 500
REPLIES_SHOWN = 40


def ancestors(viewer: User | None, post: Post) -> list[Post]:
    """The posts ``post`` answers, oldest first, that ``viewer`` may see (one statement).

    The walk follows ``in_reply_to_id`` up to MAX_ANCESTORS levels; a deleted parent ends it.
    """
    if post.in_reply_to_id is None:
        return []
    start = sa.select(Post.id.label("id"), Post.in_reply_to_id.label("parent_id"),
                      sa.literal(1).label("depth")).where(Post.id == post.in_reply_to_id)
    chain = start.cte("ancestors", recursive=True)
    parent = so.aliased(Post)
    chain = chain.union_all(
        sa.select(parent.id, parent.in_reply_to_id, chain.c.depth + 1)
        .where(parent.id == chain.c.parent_id, chain.c.depth < MAX_ANCESTORS)
    )
    query = (sa.select(Post).join(chain, chain.c.id == Post.id)
             .where(Post.visible_to(viewer)).order_by(chain.c.depth.desc()))
    return list(db.session.scalars(query))


def replies(viewer: User | None, post: Post, limit: int = MAX_REPLIES) -> list[Post]:
    """The replies under ``post`` (see ``replies_and_more``)."""
    return replies_and_more(viewer, post, limit)[0]


def replies_and_more(viewer: User | None, post: Post, limit: int = MAX_REPLIES) -> tuple[list[Post], bool]:
    """The replies under ``post``, direct and nested, that ``viewer`` may see, in thread order (one
    statement): each reply followed by its own replies, oldest first at each level.

    The rule leaves out hidden and followers-only posts the viewer may not see and, as in any list,
    the authors the viewer blocked or muted; a reply whose parent is left out goes with it. At most
    ``limit`` replies (MAX_REPLIES at most), MAX_DEPTH levels down, the nearest levels first: a
    reply's parent is always among them, since it is a level nearer. The flag says whether the
    thread has more replies than that.
    """
    start = sa.select(Post.id.label("id"), sa.literal(1).label("depth")).where(Post.in_reply_to_id == post.id)
    tree = start.cte("replies", recursive=True)
    child = so.aliased(Post)
    tree = tree.union_all(
        sa.select(child.id, tree.c.depth + 1)
        .where(child.in_reply_to_id == tree.c.id, tree.c.depth < MAX_DEPTH)
    )
    query = (sa.select(Post).join(tree, tree.c.id == Post.id)
             .where(Post.visible_to(viewer, listing=True))
             .order_by(tree.c.depth, Post.id).limit(min(limit, MAX_REPLIES) + 1))
    found = list(db.session.scalars(query))
    more = len(found) > limit
    return thread_order(post.id, found[:limit]), more


def thread_order(root_id: int, posts: list[Post]) -> list[Post]:
    """``posts`` (replies under ``root_id``) depth first, each level oldest first; posts whose parent is
    not among them (nor the root) are left out with their own replies."""
    children: dict[int | None, list[Post]] = defaultdict(list)
    for reply in sorted(posts, key=lambda p: p.id):
        children[reply.in_reply_to_id].append(reply)
    ordered: list[Post] = []
    stack = list(reversed(children.get(root_id, [])))
    while stack:
        reply = stack.pop()
        ordered.append(reply)
        stack.extend(reversed(children.get(reply.id, [])))
    return ordered


def context(viewer: User | None, post: Post) -> tuple[list[Post], list[Post]]:
    """(the ancestors of ``post``, oldest first; its replies in thread order), as ``viewer`` may see them."""
    return ancestors(viewer, post), replies(viewer, post)


def history(post: Post) -> list[PostEdit]:
    """The earlier versions of ``post``, newest first (the caller checked the viewer may see it)."""
    query = sa.select(PostEdit).where(PostEdit.post_id == post.id).order_by(PostEdit.id.desc())
    return list(db.session.scalars(query))


def reply_visibility(author: User, parent: Post) -> str:
    """The visibility a reply form starts with: followers-only under a followers-only post, else the
    author's default."""
    if parent.visibility == Visibility.FOLLOWERS.value:
        return Visibility.FOLLOWERS.value
    return author.default_visibility or Visibility.PUBLIC.value
