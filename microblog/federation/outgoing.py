"""Activities of local actions, handed to delivery (federation/delivery.py) after the commit that made
them. Services call these with ids; each one returns at once (the work is a job) and never raises into
the caller: a peer that is down must not undo or fail a local action.

INTEGRATION NOTE (DELIVERY owns this file): the signatures are fixed; the bodies are filled in there.
"""

from __future__ import annotations


def post_created(post_id: int) -> None:
    """Create{Note} to the author's followers' inboxes and to the accounts the post mentions or answers."""


def post_updated(post_id: int) -> None:
    """Update{Note} to the same audience."""


def post_deleted(author_id: int, post_id: int, inboxes: list[str]) -> None:
    """Delete{Tombstone}: ``inboxes`` were read before the row went (see ``inboxes_for_post``)."""


def liked(user_id: int, post_id: int) -> None:
    """Like of a remote post, to its author's inbox."""


def unliked(user_id: int, post_id: int) -> None:
    """Undo{Like}."""


def reposted(user_id: int, post_id: int) -> None:
    """Announce of a post, to the reposter's followers and the post's author."""


def unreposted(user_id: int, post_id: int) -> None:
    """Undo{Announce}."""


def follow_requested(follower_id: int, followed_id: int, activity_uri: str) -> None:
    """Follow of a remote account (the FollowRequest's ``activity_uri`` is the Follow's id)."""


def follow_answered(follower_id: int, followed_id: int, activity_uri: str | None, accepted: bool) -> None:
    """Accept or Reject of a remote account's Follow of a local one."""


def unfollowed(follower_id: int, followed_id: int) -> None:
    """Undo{Follow} of a remote account."""


def blocked(blocker_id: int, blocked_id: int) -> None:
    """Block of a remote account, to its server."""


def unblocked(blocker_id: int, blocked_id: int) -> None:
    """Undo{Block}."""


def profile_updated(user_id: int) -> None:
    """Update{Person} to the account's followers' servers."""


def moved(user_id: int) -> None:
    """Move of the account to its ``moved_to``, to its followers' servers."""


def account_deleted(user_id: int, inboxes: list[str]) -> None:
    """Delete{Person}, to the servers of its followers, read before the account went."""
