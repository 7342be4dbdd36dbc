"""Mastodon's Notification entity built from our notifications, a page at once, and the mapping between
Mastodon's notification types and our kinds (docs: entities/Notification, methods/notifications).

Our kinds as Mastodon names them:

- ``new_follower`` is ``follow``; ``follow_request`` is ``follow_request``; ``like`` is ``favourite``;
  ``repost`` is ``reblog``;
- ``mention`` and ``reply`` are both ``mention``: Mastodon tells of a reply as a mention of the
  person replied to (the status is the reply);
- ``message`` is left out: a private message is a direct status, listed by /api/v1/conversations;
- ``report_outcome`` is left out: Mastodon has no notification for a reporter about the outcome of a
  report (``admin.report`` tells staff of a new report, ``moderation_warning`` tells an account of an
  action against it), so no type of Mastodon's would mean it to an app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.mastodon import entities, status_entity
from microblog.models import Notification, NotificationKind, Post, User

TYPES: dict[str, str] = {
    NotificationKind.NEW_FOLLOWER.value: "follow",
    NotificationKind.FOLLOW_REQUEST.value: "follow_request",
    NotificationKind.LIKE.value: "favourite",
    NotificationKind.REPOST.value: "reblog",
    NotificationKind.MENTION.value: "mention",
    NotificationKind.REPLY.value: "mention",
}
# The types whose notification carries the status it is about (entities/Notification#status).
WITH_STATUS = frozenset({"favourite", "reblog", "mention"})


def _names(raw: Any) -> list[str]:
    """``types[]`` as a client sends it: a list of strings, or one string; anything else is none."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list):
        return [name for name in raw if isinstance(name, str)]
    return []


def kinds(types: Any = None, exclude_types: Any = None) -> list[str]:
    """Our kinds that ``types[]`` asks for (all the API shows when none are given) less those of
    ``exclude_types[]``. A type we never give (``poll``, ``update``, a misspelling) matches nothing, as
    Mastodon intersects ``types[]`` with the types it knows."""
    wanted, unwanted = _names(types), set(_names(exclude_types))
    return [kind for kind, name in TYPES.items() if (not wanted or name in wanted) and name not in unwanted]


def notifications(viewer: User, rows: Sequence[Notification]) -> list[dict[str, Any]]:
    """The Notification entities of a page of ``viewer``'s notifications, in order: the posts they are
    about read in one statement and made Status entities together (status_entity.statuses), the actors'
    Account entities together (the rows come from ``notifications.listed_select``: each has an actor)."""
    post_ids = {row.post_id for row in rows if row.post_id is not None and TYPES.get(row.kind) in WITH_STATUS}
    posts = _posts(post_ids)
    shown = dict(zip(posts, status_entity.statuses(viewer, list(posts.values())), strict=True))
    actors = entities.accounts(row.actor for row in rows if row.actor is not None)
    found = []
    for row in rows:
        kind = TYPES.get(row.kind)
        if kind is None or row.actor_id not in actors:
            continue
        entity: dict[str, Any] = {
            "id": str(row.id),
            "type": kind,
            "created_at": entities.iso(row.created_at),
            "account": actors[row.actor_id],
            "group_key": f"ungrouped-{row.id}",
        }
        if kind in WITH_STATUS:
            if row.post_id not in shown:
                continue
            entity["status"] = shown[row.post_id]
        found.append(entity)
    return found


def _posts(ids: Iterable[int]) -> dict[int, Post]:
    """The posts by id, in one statement (their authors come joined)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {post.id: post for post in db.session.scalars(sa.select(Post).where(Post.id.in_(wanted)))}
