"""Follower graph rules: follow and unfollow, and the notifications they cause.

Following a locked account, or an account of another server, is a request first
(services/follow_requests.py): the follow begins when its owner (or their server) accepts.
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.federation import outgoing, urls
from microblog.models import User
from microblog.services import blocks, follow_edges, follow_requests, roles, suggestions


def follow(follower: User, followed: User) -> bool:
    """Make ``follower`` follow ``followed``, or ask to when ``followed`` is locked or remote (then
    ``follow_requests.is_pending`` tells the caller so). Returns False when nothing changed: they
    already follow, or already asked (harmless).

    :raises ValidationError: following yourself.
    :raises PermissionDenied: either of them blocked the other, or ``follower`` is suspended.
    """
    if follower.id == followed.id:
        raise ValidationError(_("You cannot follow yourself."))
    roles.check_not_suspended(follower)
    blocks.check_contact(follower, followed, "follow")
    if follower.is_following(followed) or follow_requests.is_pending(follower, followed):
        return False
    if followed.is_remote:
        # A Follow of our own, named by a fresh id: its server answers with Accept or Reject naming it.
        activity_uri = urls.activity_uri("follow", follower.id, followed.id, secrets.token_hex(8))
        follow_requests.ask(follower, followed, activity_uri=activity_uri)
        outgoing.follow_requested(follower.id, followed.id, activity_uri)
        return True
    if followed.locked:
        follow_requests.ask(follower, followed)
        return True
    return follow_edges.add(follower, followed)


def unfollow(follower: User, followed: User) -> bool:
    """Stop following, or withdraw a pending request to. Returns False when there was nothing to undo.

    A remote account's server is told (Undo of the Follow) after the commit.
    """
    was_pending = follow_requests.is_pending(follower, followed)
    ended = follow_edges.remove(follower.id, followed.id)
    db.session.commit()
    suggestions.forget(follower.id)
    if (ended or was_pending) and followed.is_remote:
        outgoing.unfollowed(follower.id, followed.id)
    return ended or was_pending
