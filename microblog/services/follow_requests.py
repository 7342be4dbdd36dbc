"""Follows waiting for an answer (``FollowRequest`` rows): asking to follow a locked account, its owner
approving or refusing, the asker withdrawing; and a local person's follow of a remote account until its
server sends Accept or Reject. What remote servers must hear is handed to ``federation.outgoing`` after
the commit."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.exceptions import NotFound, ValidationError
from microblog.extensions import db
from microblog.federation import outgoing
from microblog.models import FollowRequest, NotificationKind, User
from microblog.services import blocks, follow_edges, notifications, roles, rows


def find(follower: User, followed: User) -> FollowRequest | None:
    """The pending request of ``follower`` to follow ``followed``, if any."""
    return db.session.scalar(sa.select(FollowRequest).where(FollowRequest.follower_id == follower.id,
                                                            FollowRequest.followed_id == followed.id))


def is_pending(follower: User, followed: User) -> bool:
    """Whether ``follower`` asked to follow ``followed`` and has no answer yet."""
    query = sa.select(FollowRequest.id).where(FollowRequest.follower_id == follower.id,
                                              FollowRequest.followed_id == followed.id)
    return bool(db.session.scalar(sa.select(sa.exists(query))))


def ask(follower: User, followed: User, activity_uri: str | None = None) -> FollowRequest:
    """Ask to follow ``followed``: a pending request, committed; the owner of a local account is
    notified. Asking again is harmless (a newer Follow activity's id replaces the older one, as its
    answer will name it).

    :raises ValidationError: asking to follow yourself.
    :raises PermissionDenied: either of them blocked the other, or ``follower`` is suspended.
    """
    if follower.id == followed.id:
        raise ValidationError(_("You cannot follow yourself."))
    roles.check_not_suspended(follower)
    blocks.check_contact(follower, followed, "follow")
    made = rows.insert_unless_present(FollowRequest.__table__, follower_id=follower.id,
                                      followed_id=followed.id, activity_uri=activity_uri)
    request = find(follower, followed)
    assert request is not None  # just inserted, or there already (the unique pair)
    if made and not followed.is_remote:
        notifications.add_notification(followed.id, NotificationKind.FOLLOW_REQUEST, follower.id)
    elif not made and activity_uri is not None:
        request.activity_uri = activity_uri
    db.session.commit()
    return request


def _owned(owner: User, request_id: int) -> FollowRequest:
    request = db.session.scalar(sa.select(FollowRequest).where(FollowRequest.id == request_id,
                                                               FollowRequest.followed_id == owner.id))
    if request is None:
        raise NotFound(_("That follow request is no longer pending."))
    return request


def approve(owner: User, request_id: int) -> User:
    """Let the asker of request ``request_id`` (one made to ``owner``) follow ``owner``; a remote
    asker's server is sent Accept. Returns the new follower.

    :raises NotFound: no such request pending for ``owner``.
    """
    roles.check_not_suspended(owner)
    request = _owned(owner, request_id)
    follower = db.session.get(User, request.follower_id)
    assert follower is not None  # the foreign key
    blocks.check_contact(owner, follower, "follow")
    activity_uri = request.activity_uri
    follow_edges.add(follower, owner)  # deletes the request
    if follower.is_remote:
        outgoing.follow_answered(follower.id, owner.id, activity_uri, accepted=True)
    return follower


def refuse(owner: User, request_id: int) -> User:
    """Turn request ``request_id`` down: it goes, and a remote asker's server is sent Reject (a local
    asker is not told, as with Mastodon: the button goes back to Follow). Returns the asker.

    :raises NotFound: no such request pending for ``owner``.
    """
    request = _owned(owner, request_id)
    follower = db.session.get(User, request.follower_id)
    assert follower is not None  # the foreign key
    activity_uri = request.activity_uri
    db.session.delete(request)
    db.session.commit()
    if follower.is_remote:
        outgoing.follow_answered(follower.id, owner.id, activity_uri, accepted=False)
    return follower


def withdraw(follower: User, followed: User) -> bool:
    """Cancel ``follower``'s pending request to follow ``followed`` (a remote account's server is sent
    Undo of the Follow). Returns False when there was none."""
    request = find(follower, followed)
    if request is None:
        return False
    db.session.delete(request)
    db.session.commit()
    if followed.is_remote:
        outgoing.unfollowed(follower.id, followed.id)
    return True


def approve_all(owner: User) -> int:
    """Approve every request pending for ``owner`` (their account was unlocked). Returns how many."""
    ids = db.session.scalars(sa.select(FollowRequest.id).where(FollowRequest.followed_id == owner.id)
                             .order_by(FollowRequest.id)).all()
    for request_id in ids:
        approve(owner, request_id)
    return len(ids)


def pending_select(owner: User) -> sa.Select:
    """The requests waiting for ``owner``'s answer, the oldest first, with their askers (for a page)."""
    return (sa.select(FollowRequest, User).join(User, User.id == FollowRequest.follower_id)
            .where(FollowRequest.followed_id == owner.id).order_by(FollowRequest.id))


def pending_for(owner: User) -> list[tuple[FollowRequest, User]]:
    """Every request waiting for ``owner``'s answer and who made it, the oldest first."""
    return [(request, asker) for request, asker in db.session.execute(pending_select(owner))]


def pending_count(owner: User) -> int:
    """How many requests wait for ``owner``'s answer."""
    query = sa.select(sa.func.count()).select_from(FollowRequest).where(FollowRequest.followed_id == owner.id)
    return db.session.scalar(query) or 0
