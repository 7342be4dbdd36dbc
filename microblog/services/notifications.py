"""Notification rules: what lands in a user's list, the unread count the navbar polls, marking read."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import (
    ID_MAX,
    NOTIFY_NEW_FOLLOWER,
    Block,
    Mute,
    Notification,
    NotificationKind,
    Post,
    User,
    UserSession,
)
from microblog.services import notification_mail
from microblog.timeutil import utcnow

# The badge says "99+" beyond this, so counting stops there whatever the backlog.
UNREAD_CAP = 99
# Kinds where one unread notification per actor is enough (follow, unfollow, follow again...).
DEDUPLICATED = (NOTIFY_NEW_FOLLOWER,)
# Kinds about a post, which a recipient who blocked or muted the actor never gets.
ABOUT_A_POST = (
    NotificationKind.MENTION, NotificationKind.REPLY, NotificationKind.LIKE, NotificationKind.REPOST,
)


def add_notification(
    user_id: int,
    kind: str,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
    created_at: datetime | None = None,
    *,
    post_id: int | None = None,
    silence_checked: bool = False,
) -> Notification | None:
    """Add a notification to the session; the calling service commits it with the action behind it.

    ``post_id``: the post it is about (a reply, a mention, a like, a repost). Mentions and replies are
    also emailed to a recipient who has been away and wants them (``notification_mail``), after commit.

    Returns None (and adds nothing) when an unread notification of a deduplicated kind from the same
    actor exists, when the actor is the recipient, or, for the kinds about a post, when the recipient
    blocked or muted the actor (``silence_checked``: the caller already asked ``silenced_among``).
    """
    if actor_id is not None and actor_id == user_id:
        return None
    if kind in ABOUT_A_POST and actor_id is not None and not silence_checked and silenced(user_id, actor_id):
        return None
    if kind in DEDUPLICATED and actor_id is not None:
        pending = sa.select(Notification.id).where(
            Notification.user_id == user_id, Notification.read_at.is_(None),
            Notification.kind == kind, Notification.actor_id == actor_id,
        )
        if db.session.scalar(sa.select(sa.exists(pending))):
            return None
    notification = Notification(user_id=user_id, kind=kind, actor_id=actor_id, payload=payload,
                                created_at=created_at or utcnow(), post_id=post_id)
    db.session.add(notification)
    if kind in notification_mail.EMAILED_KINDS and actor_id is not None and post_id is not None:
        notification_mail.email_if_away(notification)
    return notification


def silenced(user_id: int, actor_id: int) -> bool:
    """True when ``user_id`` blocked or muted ``actor_id`` (one query)."""
    blocked = sa.select(Block.blocked_id).where(Block.blocker_id == user_id, Block.blocked_id == actor_id)
    muted = sa.select(Mute.muted_id).where(Mute.muter_id == user_id, Mute.muted_id == actor_id)
    return bool(db.session.scalar(sa.select(sa.or_(sa.exists(blocked), sa.exists(muted)))))


def unread_count_select(user_id: int | sa.BindParameter[int]) -> sa.Select:
    """The number of unread notifications, counted up to UNREAD_CAP + 1 on the (user_id, read_at) index."""
    unread = (
        sa.select(Notification.id)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .limit(UNREAD_CAP + 1)
        .subquery()
    )
    return sa.select(sa.func.count()).select_from(unread)


def unread_count(user_id: int) -> int:
    """Unread notifications of this user, up to UNREAD_CAP + 1 (one read-only query)."""
    return db.session.scalar(unread_count_select(user_id)) or 0


def unread_count_in_session(user_id: int, session_version: int, session_key: str | None = None) -> int | None:
    """``unread_count`` for a session cookie's user, or None when that session has ended (its version
    is no longer the account's, or its session row was revoked): one read-only query checks it all.
    ``session_key`` None is a legacy session, checked by its version alone."""
    key_hash = hashlib.sha256(session_key.encode()).hexdigest() if session_key else None
    row = db.session.execute(
        sa.select(User.session_version, unread_count_select(user_id).scalar_subquery(),
                  UserSession.id, UserSession.revoked_at)
        .outerjoin(UserSession, sa.and_(UserSession.user_id == User.id, UserSession.key_hash == key_hash))
        .where(User.id == user_id)
    ).first()
    if row is None or row[0] != session_version:
        return None
    if session_key and (row[2] is None or row[3] is not None):
        return None
    return row[1] or 0


def badge(count: int) -> dict[str, Any]:
    """What the navbar shows for ``count`` unread notifications."""
    return {"unread": min(count, UNREAD_CAP), "more": count > UNREAD_CAP}


def mark_all_read(user: User, up_to_id: int | None = None) -> int:
    """Mark the user's unread notifications read, only those up to ``up_to_id`` when given (the newest
    one they were shown, so one that arrived meanwhile stays unread). Returns how many changed."""
    query = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if up_to_id is not None:
        query = query.where(Notification.id <= min(up_to_id, ID_MAX))
    result = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def mark_read_from(user: User, kind: str, actor: User, until: datetime | None = None) -> int:
    """Mark ``user``'s unread ``kind`` notifications from ``actor`` read (those created up to ``until``).

    Part of a larger change: the calling service commits. Returns how many changed.
    """
    query = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None),
        Notification.kind == kind, Notification.actor_id == actor.id,
    )
    if until is not None:
        query = query.where(Notification.created_at <= until)
    result = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount


# -- lists for apps (the Mastodon-compatible API) ---------------------------------------------------
def listed_select(user: User, kinds: Collection[str], actor_id: int | None = None,
                  one_per_post: bool = False) -> sa.Select:
    """``user``'s notifications of ``kinds`` (from ``actor_id`` alone, when given) that a list shows, newest
    first: each has an actor, one ``user`` neither blocked nor muted and who is not deactivated, and one
    about a post is left out once that post is no longer the user's to see (hidden by a moderator).

    ``one_per_post``: a reply that also mentions ``user`` made two notifications (a reply and a
    mention); where both say the same thing (Mastodon's one "mention"), the reply is left out."""
    query = sa.select(Notification).where(
        Notification.user_id == user.id, Notification.kind.in_(list(kinds)),
        Notification.actor_id.is_not(None), Notification.actor_id.not_in(Post.left_out_authors(user)),
    )
    if one_per_post:
        twin = sa.orm.aliased(Notification)
        mention = sa.select(twin.id).where(twin.user_id == user.id, twin.post_id == Notification.post_id,
                                           twin.kind == NotificationKind.MENTION.value)
        query = query.where(sa.or_(Notification.kind != NotificationKind.REPLY.value, ~sa.exists(mention)))
    if actor_id is not None:
        query = query.where(Notification.actor_id == actor_id)
    about_post = [kind.value for kind in ABOUT_A_POST]
    visible_post = sa.select(Post.id).where(Post.id == Notification.post_id, Post.visible_to(user))
    query = query.where(sa.or_(sa.and_(Notification.kind.not_in(about_post), Notification.post_id.is_(None)),
                               sa.exists(visible_post)))
    return query.order_by(Notification.id.desc())


def count_unread(query: sa.Select, cap: int) -> int:
    """How many of the notifications ``query`` lists are unread, counting no further than ``cap``."""
    unread = query.where(Notification.read_at.is_(None)).order_by(None).limit(cap).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(unread)) or 0


def dismiss(user: User, notification_id: int) -> bool:
    """Delete one of ``user``'s notifications; False when they have none with that id."""
    result = db.session.execute(sa.delete(Notification).where(
        Notification.id == notification_id, Notification.user_id == user.id))
    db.session.commit()
    return bool(result.rowcount)


def clear(user: User) -> int:
    """Delete every notification of ``user`` (what they were told stays done: messages, follows...).
    Returns how many went."""
    result = db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))
    db.session.commit()
    return result.rowcount


# -- the notifications page ----------------------------------------------------------------------
# Kinds shown as one line per post on a page: "alice and 3 others liked your post".
GROUPED = (NotificationKind.LIKE.value, NotificationKind.REPOST.value)


@dataclass
class NotificationGroup:
    """One line of the notifications page: ``note`` (the newest of its group) and, for grouped kinds,
    the other people who did the same to the same post among the notifications of the page."""

    note: Notification
    ids: list[int] = field(default_factory=list)
    actor_ids: list[int] = field(default_factory=list)
    unread: bool = False

    @property
    def others(self) -> int:
        """How many people besides ``note.actor`` are in this group."""
        return max(len(self.actor_ids) - 1, 0)


def group_page(items: Iterable[Notification]) -> list[NotificationGroup]:
    """The page's notifications as lines, newest first: likes and reposts of one post grouped into the
    line of the newest; everything else one line each. Pure Python over the page's rows (no query)."""
    lines: list[NotificationGroup] = []
    grouped: dict[tuple[str, int], NotificationGroup] = {}
    for note in items:
        key = (note.kind, note.post_id) if note.kind in GROUPED and note.post_id is not None else None
        line = grouped.get(key) if key is not None else None
        if line is None:
            line = NotificationGroup(note)
            lines.append(line)
            if key is not None:
                grouped[key] = line
        line.ids.append(note.id)
        if note.actor_id is not None and note.actor_id not in line.actor_ids:
            line.actor_ids.append(note.actor_id)
        line.unread = line.unread or note.read_at is None
    return lines


def silenced_among(recipient_ids: Iterable[int], actor_id: int) -> set[int]:
    """Which of ``recipient_ids`` blocked or muted ``actor_id`` (one query): they get no notification
    of what the actor does."""
    ids = list(set(recipient_ids))
    if not ids:
        return set()
    blocked = sa.select(Block.blocker_id).where(Block.blocked_id == actor_id, Block.blocker_id.in_(ids))
    muted = sa.select(Mute.muter_id).where(Mute.muted_id == actor_id, Mute.muter_id.in_(ids))
    return set(db.session.scalars(blocked.union(muted)))

