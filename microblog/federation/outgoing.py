"""Activities of local actions, handed to delivery (federation/delivery.py) after the commit that made
them. Services call these with ids; each one returns at once (the work is a job) and never raises into
the caller: a peer that is down must not undo or fail a local action.

Each call queues a job (no statement in the request: the pages' statement budget stays as it was);
the job first asks whether anyone remote is to hear of it (one small query: a site without remote
followers writes nothing), and only then builds the activity and writes its deliveries.

Addressing: a post's Create/Update/Delete go to its author's followers' servers (shared inboxes), to
the remote accounts it mentions and to the remote author of the post it answers, with the post's own
``to``/``cc`` (a followers-only post is never addressed to Public). Likes go to the liked post's
remote author; reposts to the reposter's followers and the post's author; Follow, Accept, Reject,
Block and their Undos to the other account's own inbox; profile updates, Move and the deletion of an
account to its followers' servers.

Ids (``urls.activity_uri``) are stable where an Undo names the activity: Like and Announce by
(account, post), Block by (blocker, blocked), Create and Delete by post, Update by post and edit
time. Undo, Accept and Reject carry the time of the action, so that doing, undoing and doing again
are three activities to a receiver that drops ids it has seen.

The activities are built by a job in ``federation/activities.py`` (it needs ``objects``, which the
services must not import: objects -> post_html -> templating -> post_forms -> services is a cycle);
it is queued here by its registered name, and ``register_federation`` loads it in every process.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app

from microblog import jobs
from microblog.extensions import db
from microblog.federation import delivery, urls
from microblog.models import FollowRequest, Mention, Post, User, followers
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

# The job that builds an activity and writes its deliveries (federation/activities.py).
BUILD_TASK = "microblog.federation.activities.build_and_deliver"


def _enabled() -> bool:
    return bool(current_app.config.get("FEDERATION_ENABLED"))


def _never_raises(func: Callable[..., None]) -> Callable[..., None]:
    """A local action is committed before its hook runs: a failure here is logged, never raised."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            if _enabled():
                func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - federation must not fail the local action
            log.exception("federation: %s%r not queued", func.__name__, args)
    return wrapper


def _queue(kind: str, *args: Any) -> None:
    task = jobs.TASKS.get(BUILD_TASK)
    if task is None:
        raise LookupError(f"{BUILD_TASK} is not registered: register_federation loads it")
    jobs.enqueue(task, kind, *args)


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def local_user(user_id: int) -> User | None:
    """The local account with this id, or None."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.domain is None else None


def remote_user(user_id: int) -> User | None:
    """The stored remote account with this id, or None."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.domain is not None else None


def own_inbox(user: User) -> str | None:
    """A remote account's personal inbox (for what concerns it alone), else its server's shared one."""
    return user.inbox_url or user.shared_inbox_url


def preferred_inbox(user: User) -> str | None:
    """A remote account's server's shared inbox, else its own."""
    return user.shared_inbox_url or user.inbox_url


def remote_followers_exist(user_id: int) -> bool:
    """Whether any remote account follows local ``user_id``."""
    remote = sa.select(User.id).where(User.domain.is_not(None))
    return bool(db.session.scalar(sa.select(sa.exists().where(
        followers.c.followed_id == user_id, followers.c.follower_id.in_(remote)))))


def inboxes_for_post(post: Post) -> list[str]:
    """The inboxes a local post's activities go to: its author's followers' (shared) inboxes, the remote
    accounts it mentions and the remote author of the post it answers; one query. Read before deleting
    a post (``post_deleted``); empty when federation is off or the post is not local."""
    if not _enabled() or post.author.domain is not None:
        return []
    inbox = sa.func.coalesce(User.shared_inbox_url, User.inbox_url)
    remote = User.domain.is_not(None)
    parts = [
        sa.select(inbox).join(followers, followers.c.follower_id == User.id)
        .where(followers.c.followed_id == post.user_id, remote),
        sa.select(inbox).join(Mention, Mention.user_id == User.id).where(Mention.post_id == post.id, remote),
    ]
    if post.in_reply_to_user_id is not None:
        parts.append(sa.select(inbox).where(User.id == post.in_reply_to_user_id, remote))
    return sorted(inbox for inbox in db.session.scalars(sa.union(*parts)) if inbox)


def follow_id(follower_id: int, followed_id: int) -> str:
    """The id of a local account's Follow of a remote one: the pending request's, else the one built
    from the pair (``follow_requested`` is given the FollowRequest's)."""
    pending = db.session.scalar(sa.select(FollowRequest.activity_uri).where(
        FollowRequest.follower_id == follower_id, FollowRequest.followed_id == followed_id))
    return pending or urls.activity_uri("follow", follower_id, followed_id)


def follower_inboxes(user_id: int) -> list[str]:
    """The (shared) inboxes of a local account's remote followers; empty when federation is off. Read
    before the follows go (``account_deleted``)."""
    user = local_user(user_id) if _enabled() else None
    return delivery.inboxes_for_followers(user) if user is not None else []


# -- the hooks: each queues the job, which finds out whether anyone remote is to hear of it ---------
@_never_raises
def post_created(post_id: int) -> None:
    """Create{Note} to the author's followers' inboxes and to the accounts the post mentions or answers."""
    _queue("create", post_id)


@_never_raises
def post_updated(post_id: int) -> None:
    """Update{Note} to the same audience."""
    _queue("update", post_id)


@_never_raises
def post_deleted(author_id: int, post_id: int, inboxes: list[str]) -> None:
    """Delete{Tombstone}: ``inboxes`` were read before the row went (see ``inboxes_for_post``)."""
    if inboxes:
        _queue("delete", author_id, post_id, list(inboxes))


@_never_raises
def liked(user_id: int, post_id: int, reaction_id: str) -> None:
    """Like of a remote post, to its author's inbox."""
    _queue("like", user_id, post_id, reaction_id)


@_never_raises
def unliked(user_id: int, post_id: int, reaction_id: str) -> None:
    """Undo{Like}."""
    _queue("unlike", user_id, post_id, reaction_id, _now_ms())


@_never_raises
def reposted(user_id: int, post_id: int, reaction_id: str) -> None:
    """Announce of a post, to the reposter's followers and the post's author."""
    _queue("announce", user_id, post_id, reaction_id)


@_never_raises
def unreposted(user_id: int, post_id: int, reaction_id: str) -> None:
    """Undo{Announce}."""
    _queue("unannounce", user_id, post_id, reaction_id, _now_ms())


@_never_raises
def follow_requested(follower_id: int, followed_id: int, activity_uri: str) -> None:
    """Follow of a remote account (the FollowRequest's ``activity_uri`` is the Follow's id)."""
    _queue("follow", follower_id, followed_id, activity_uri)


@_never_raises
def follow_answered(follower_id: int, followed_id: int, activity_uri: str | None, accepted: bool) -> None:
    """Accept or Reject of a remote account's Follow of a local one."""
    _queue("answer", follower_id, followed_id, activity_uri, bool(accepted), _now_ms())


@_never_raises
def unfollowed(follower_id: int, followed_id: int) -> None:
    """Undo{Follow} of a remote account."""
    _queue("unfollow", follower_id, followed_id, _now_ms())


@_never_raises
def blocked(blocker_id: int, blocked_id: int) -> None:
    """Block of a remote account, to its server."""
    _queue("block", blocker_id, blocked_id)


@_never_raises
def unblocked(blocker_id: int, blocked_id: int) -> None:
    """Undo{Block}."""
    _queue("unblock", blocker_id, blocked_id, _now_ms())


@_never_raises
def profile_updated(user_id: int) -> None:
    """Update{Person} to the account's followers' servers."""
    _queue("profile", user_id, _now_ms())


@_never_raises
def moved(user_id: int) -> None:
    """Move of the account to its ``moved_to``, to its followers' servers."""
    _queue("move", user_id)


@_never_raises
def account_deleted(user_id: int, inboxes: list[str]) -> None:
    """Delete{Person}, to the servers of its followers, read before the account went."""
    if inboxes:
        _queue("delete_account", user_id, list(inboxes))
