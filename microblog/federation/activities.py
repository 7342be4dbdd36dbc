"""The activities of local actions (federation/outgoing.py decides that one is needed and queues
``build_and_deliver``): built from the rows as they are when the job runs, and handed to delivery.

Not imported by the services (objects -> post_html -> templating -> post_forms -> services would be
a cycle): ``register_federation`` loads it, which registers the job in every process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from microblog import jobs
from microblog.extensions import db
from microblog.federation import delivery, objects, outgoing, urls
from microblog.models import Post, User, Visibility
from microblog.timeutil import utcnow

Built = tuple[dict[str, Any], User, list[str]]


@jobs.task
def build_and_deliver(kind: str, *args: Any) -> list[int]:
    """Build the activity ``kind`` of a local action and write its deliveries. Returns their ids
    (none when what it was about is gone, or nobody remote is to hear of it)."""
    built = BUILDERS[kind](*args)
    if built is None:
        return []
    activity, sender, inboxes = built
    return delivery.enqueue_activity(activity, sender, inboxes)


def _activity(kind: str, activity_id: str, sender: User, object_: Any, **extra: Any) -> dict[str, Any]:
    return {"@context": objects.CONTEXT, "id": activity_id, "type": kind, "actor": objects.actor_id(sender),
            "object": object_, **extra}


def _inner(activity: dict[str, Any]) -> dict[str, Any]:
    """An activity as the object of another (an Undo's), without its @context."""
    return {key: value for key, value in activity.items() if key != "@context"}


def _undo(kind: str, inner: dict[str, Any], sender: User, when: int, *parts: object) -> dict[str, Any]:
    extra = {key: inner[key] for key in ("to", "cc") if key in inner}
    return _activity("Undo", urls.activity_uri("undo", kind, *parts, when), sender, _inner(inner), **extra)


def _build_post(kind: str, post_id: int) -> Built | None:
    post = db.session.get(Post, post_id)
    if post is None or post.author.domain is not None:
        return None
    inboxes = outgoing.inboxes_for_post(post)
    if not inboxes:
        return None  # nobody remote: the one question a local-only site pays for
    note = objects.note_json(post, with_context=False)
    if kind == "Create":
        activity_id = urls.activity_uri("create", post.id)
    else:
        edited = post.edited_at or post.timestamp
        activity_id = urls.activity_uri("update", post.id, int(edited.timestamp()))
    activity = _activity(kind, activity_id, post.author, note, to=note["to"], cc=note["cc"],
                         published=note.get("updated") or note["published"])
    return activity, post.author, inboxes


def _build_delete(author_id: int, post_id: int, inboxes: list[str]) -> Built | None:
    author = outgoing.local_user(author_id)
    if author is None:
        return None
    # Addressed to the followers, never to Public: the post may have been for them only.
    tombstone = {"id": urls.note_uri(post_id), "type": "Tombstone"}
    activity = _activity("Delete", urls.activity_uri("delete", post_id), author, tombstone,
                         to=[urls.followers_uri(author.username)], cc=[])
    return activity, author, inboxes


def _like(user: User, post: Post, like_id: str) -> dict[str, Any]:
    # Named by the like's row: liking again after taking it back is a new activity, not a replay.
    return _activity("Like", urls.activity_uri("like", like_id), user, objects.post_id(post),
                     to=[objects.actor_id(post.author)])


def _build_like(user_id: int, post_id: int, like_id: str, when: int | None = None) -> Built | None:
    user, post = outgoing.local_user(user_id), db.session.get(Post, post_id)
    if user is None or post is None or post.author.domain is None:
        return None
    inbox = outgoing.own_inbox(post.author)
    if inbox is None:
        return None
    like = _like(user, post, like_id)
    activity = like if when is None else _undo("like", like, user, when, like_id)
    return activity, user, [inbox]


def _announce(user: User, post: Post, announce_id: str) -> dict[str, Any]:
    mine, author = urls.followers_uri(user.username), objects.actor_id(post.author)
    if post.visibility == Visibility.PUBLIC.value:
        to, cc = [urls.AS_PUBLIC], [mine, author]
    else:  # unlisted (a followers-only post cannot be reposted)
        to, cc = [mine], [urls.AS_PUBLIC, author]
    # Named by the repost's row: its Undo names the same id (servers find the reblog by it).
    return _activity("Announce", urls.activity_uri("announce", announce_id), user,
                     objects.post_id(post), to=to, cc=cc, published=objects.iso(utcnow()))


def _build_announce(user_id: int, post_id: int, announce_id: str, when: int | None = None) -> Built | None:
    user, post = outgoing.local_user(user_id), db.session.get(Post, post_id)
    if user is None or post is None or post.visibility == Visibility.FOLLOWERS.value:
        return None
    inboxes = delivery.inboxes_for_followers(user)
    if post.author.domain is not None and outgoing.preferred_inbox(post.author):
        inboxes.append(outgoing.preferred_inbox(post.author) or "")
    if not inboxes:
        return None
    announce = _announce(user, post, announce_id)
    activity = announce if when is None else _undo("announce", announce, user, when, announce_id)
    return activity, user, inboxes


def _follow(follower: User, followed: User, activity_id: str) -> dict[str, Any]:
    return _activity("Follow", activity_id, follower, objects.actor_id(followed),
                     to=[objects.actor_id(followed)])


def _pair(local_id: int, remote_id: int) -> tuple[User, User, str] | None:
    local, remote = outgoing.local_user(local_id), outgoing.remote_user(remote_id)
    if local is None or remote is None or outgoing.own_inbox(remote) is None:
        return None
    return local, remote, outgoing.own_inbox(remote) or ""


def _build_follow(follower_id: int, followed_id: int, activity_id: str | None) -> Built | None:
    pair = _pair(follower_id, followed_id)
    if pair is None:
        return None
    follower, followed, inbox = pair
    follow = _follow(follower, followed, activity_id or outgoing.follow_id(follower_id, followed_id))
    return follow, follower, [inbox]


def _build_unfollow(follower_id: int, followed_id: int, when: int) -> Built | None:
    pair = _pair(follower_id, followed_id)
    if pair is None:
        return None
    follower, followed, inbox = pair
    follow = _follow(follower, followed, outgoing.follow_id(follower_id, followed_id))
    return _undo("follow", follow, follower, when, follower_id, followed_id), follower, [inbox]


def _build_answer(follower_id: int, followed_id: int, follow_id: str | None, accepted: bool,
                  when: int) -> Built | None:
    pair = _pair(followed_id, follower_id)
    if pair is None:
        return None
    followed, follower, inbox = pair
    follow: dict[str, Any] = {"type": "Follow", "actor": objects.actor_id(follower),
                              "object": objects.actor_id(followed)}
    if follow_id:
        follow = {"id": follow_id, **follow}
    kind = "Accept" if accepted else "Reject"
    activity = _activity(kind, urls.activity_uri(kind, follower_id, followed_id, when), followed, follow,
                         to=[objects.actor_id(follower)])
    return activity, followed, [inbox]


def _build_block(blocker_id: int, blocked_id: int, when: int | None = None) -> Built | None:
    pair = _pair(blocker_id, blocked_id)
    if pair is None:
        return None
    blocker, blocked_user, inbox = pair
    block = _activity("Block", urls.activity_uri("block", blocker_id, blocked_id), blocker,
                      objects.actor_id(blocked_user), to=[objects.actor_id(blocked_user)])
    activity = block if when is None else _undo("block", block, blocker, when, blocker_id, blocked_id)
    return activity, blocker, [inbox]


def _build_profile(user_id: int, when: int) -> Built | None:
    user = outgoing.local_user(user_id)
    inboxes = delivery.inboxes_for_followers(user) if user is not None else []
    if user is None or not inboxes:
        return None
    person = _inner(objects.actor_json(user))
    activity = _activity("Update", urls.activity_uri("update", "account", user_id, when), user, person,
                         to=[urls.AS_PUBLIC], cc=[urls.followers_uri(user.username)])
    return activity, user, inboxes


def _build_move(user_id: int) -> Built | None:
    user = outgoing.local_user(user_id)
    if user is None or user.moved_to_id is None:
        return None
    target = db.session.get(User, user.moved_to_id)
    if target is None:
        return None
    activity = _activity("Move", urls.activity_uri("move", user_id, target.id), user, objects.actor_id(user),
                         target=objects.actor_id(target), to=[urls.followers_uri(user.username)])
    return activity, user, delivery.inboxes_for_followers(user)


def _build_delete_account(user_id: int, inboxes: list[str]) -> Built | None:
    user = outgoing.local_user(user_id)
    if user is None:
        return None
    activity = _activity("Delete", urls.activity_uri("delete", "account", user_id), user,
                         objects.actor_id(user), to=[urls.AS_PUBLIC])
    return activity, user, inboxes


BUILDERS: dict[str, Callable[..., Built | None]] = {
    "create": lambda post_id: _build_post("Create", post_id),
    "update": lambda post_id: _build_post("Update", post_id),
    "delete": _build_delete,
    "like": _build_like,
    "unlike": _build_like,
    "announce": _build_announce,
    "unannounce": _build_announce,
    "follow": _build_follow,
    "unfollow": _build_unfollow,
    "answer": _build_answer,
    "block": _build_block,
    "unblock": _build_block,
    "profile": _build_profile,
    "move": _build_move,
    "delete_account": _build_delete_account,
}
