"""Handlers of the follower graph's activities (Follow, Accept, Reject, Undo of a Follow, Block).

A remote account following a local one is answered at once (Accept) unless the local account is
locked (a follow request for its owner to approve) or blocked the sender (Reject). Accept and Reject
answer our own Follows (``FollowRequest.activity_uri``). A Block from a remote account ends the follows
between it and the local account it blocks; the blocked person is not told, as on Mastodon.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.federation import outgoing, processing, urls
from microblog.federation.vocabulary import id_of
from microblog.models import FollowRequest, User
from microblog.services import blocks, follow_edges, follow_requests

_ACTOR_PATH = re.compile(r"^/user/([^/]+)/?$")
# Our Follow ids: /activities/follow/<follower id>/<followed id>/<token> (services/follows.py).
_FOLLOW_PATH = re.compile(r"^/activities/follow/(\d+)/(\d+)(?:/[^/]*)?$")


def local_actor(uri: str | None) -> User | None:
    """The local, active account whose actor id is ``uri`` (``<site>/user/<name>``), or None."""
    if not uri or not urls.is_local(uri):
        return None
    match = _ACTOR_PATH.match(urlsplit(uri).path)
    if match is None:
        return None
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == unquote(match[1]).lower(),
                                                   User.domain.is_(None)))
    if user is None or user.deactivated_at is not None:
        return None
    return user


def _local_object(activity: dict[str, Any]) -> User:
    user = local_actor(id_of(activity.get("object")))
    if user is None:
        raise processing.Ignored("the object is not an account of this site")
    return user


@processing.handles("Follow")
def follow(activity: dict[str, Any], sender: User, recipient: User | None) -> None:
    """A remote account asks to follow a local one: Accept (again, if it already follows), a request
    for a locked account, Reject where the local account blocked it."""
    local = _local_object(activity)
    activity_id = id_of(activity)
    blocked_them, _blocked_me = blocks.block_state(local, sender)
    if blocked_them or local.suspended_at is not None:
        outgoing.follow_answered(sender.id, local.id, activity_id, accepted=False)
        return
    if sender.is_following(local):
        outgoing.follow_answered(sender.id, local.id, activity_id, accepted=True)
        return
    if local.locked:
        try:
            follow_requests.ask(sender, local, activity_uri=activity_id)
        except DomainError:
            db.session.rollback()
            outgoing.follow_answered(sender.id, local.id, activity_id, accepted=False)
        return
    follow_edges.add(sender, local)
    outgoing.follow_answered(sender.id, local.id, activity_id, accepted=True)


def _our_follow(follow_object: Any, sender: User) -> tuple[User | None, FollowRequest | None]:
    """The local follower that ``sender``'s Accept or Reject answers, and the request it answers: found
    by the Follow's id among pending requests, else read from that id (ours name the follower), else
    from the embedded Follow's actor."""
    follow_id = id_of(follow_object)
    if follow_id is not None:
        request = db.session.scalar(sa.select(FollowRequest).where(FollowRequest.activity_uri == follow_id,
                                                                   FollowRequest.followed_id == sender.id))
        if request is not None:
            return db.session.get(User, request.follower_id), request
    follower = None
    if follow_id is not None and urls.is_local(follow_id):
        match = _FOLLOW_PATH.match(urlsplit(follow_id).path)
        if match is not None and int(match[2]) == sender.id:
            follower = db.session.get(User, int(match[1]))
    if follower is None and isinstance(follow_object, dict):
        follower = local_actor(id_of(follow_object.get("actor")))
    if follower is None or follower.is_remote:
        return None, None
    return follower, follow_requests.find(follower, sender)


@processing.handles("Accept")
def accept(activity: dict[str, Any], sender: User, recipient: User | None) -> None:
    """A remote account accepted our Follow: the pending request becomes the follow."""
    follower, request = _our_follow(activity.get("object"), sender)
    if follower is None or request is None:
        raise processing.Ignored("no follow of ours is waiting for this answer")
    follow_edges.add(follower, sender)


@processing.handles("Reject")
def reject(activity: dict[str, Any], sender: User, recipient: User | None) -> None:
    """A remote account refused our Follow, or removed us from its followers (Mastodon's meaning of a
    Reject after an Accept): the request and the follow go."""
    follower, _request = _our_follow(activity.get("object"), sender)
    if follower is None:
        raise processing.Ignored("no follow of ours is answered by this")
    follow_edges.remove(follower.id, sender.id)
    db.session.commit()


@processing.handles("Undo:Follow")
def undo_follow(activity: dict[str, Any], sender: User, recipient: User | None) -> None:
    """The sender stops following a local account (or withdraws its request)."""
    inner = activity.get("object")
    assert isinstance(inner, dict)  # dispatched here for an embedded Follow only
    if id_of(inner.get("actor")) not in (None, sender.actor_uri):
        raise processing.Ignored("an Undo of another actor's Follow")
    local = local_actor(id_of(inner.get("object")))
    if local is None:
        follow_id = id_of(inner)
        request = db.session.scalar(sa.select(FollowRequest).where(FollowRequest.activity_uri == follow_id,
                                                                   FollowRequest.follower_id == sender.id))
        local = db.session.get(User, request.followed_id) if request is not None else None
    if local is None:
        raise processing.Ignored("the Follow is not of an account of this site")
    follow_edges.remove(sender.id, local.id)
    db.session.commit()


@processing.handles("Block")
def block(activity: dict[str, Any], sender: User, recipient: User | None) -> None:
    """The sender blocked a local account: the follows (and requests) between them end both ways.
    Nothing else is kept: the local account is not told, and may still see the sender's public posts."""
    local = _local_object(activity)
    follow_edges.remove(sender.id, local.id)
    follow_edges.remove(local.id, sender.id)
    db.session.commit()


@processing.handles("Undo:Block")
def undo_block(activity: dict[str, Any], sender: User, recipient: User | None) -> None:
    """Nothing was kept of the block, so there is nothing to undo."""
    raise processing.Ignored("blocks by remote accounts are not kept")
