"""Handlers of content activities (Create, Update, Delete, Like, Announce, Undo of those, Move)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.federation import actors, remote_accounts, remote_posts
from microblog.federation.processing import Ignored, handles
from microblog.federation.remote_posts import addressees, is_public
from microblog.federation.vocabulary import id_of
from microblog.models import Post, User, Visibility, followers
from microblog.services import posts, reactions

Activity = dict[str, Any]


def _object(activity: Activity) -> Any:
    return activity.get("object")


def _addressed_here(note: Activity, activity: Activity, sender: User, recipient: User | None) -> bool:
    """Whether a post that is not public is for someone here: a local account it names, or the
    sender's followers when some of them are local (a personal inbox delivery counts as that)."""
    named = addressees(note) | addressees(activity)
    if any(remote_posts.local_user_by_uri(uri) is not None for uri in named):
        return True
    if remote_posts.followers_collection(sender) in named:
        local_follower = (sa.select(followers.c.follower_id)
                          .join(User, User.id == followers.c.follower_id)
                          .where(followers.c.followed_id == sender.id, User.domain.is_(None)))
        return recipient is not None or bool(db.session.scalar(sa.select(sa.exists(local_follower))))
    return False


@handles("Create")
def create(activity: Activity, sender: User, recipient: User | None) -> None:
    """A new post by the sender (embedded in the activity: one given by its id alone is not fetched)."""
    note = _object(activity)
    if not isinstance(note, dict):
        raise Ignored("Create of an object given by id only")
    if note.get("type") not in remote_posts.NOTE_TYPES:
        raise Ignored(f"Create of a {note.get('type')!r}")
    if not is_public(note):
        if remote_posts.followers_collection(sender) not in addressees(note):
            # A direct message: this site has no private posts to keep one in (followers-only would
            # show it to every local follower of the sender).
            raise Ignored("direct messages are not stored")
        if not _addressed_here(note, activity, sender, recipient):
            raise Ignored("not addressed to anyone here")
    if remote_posts.store_note(note, sender, activity=activity) is None:
        raise Ignored("not a post of the sender's")


@handles("Update")
def update(activity: Activity, sender: User, recipient: User | None) -> None:
    """An edited post of the sender's, or the sender's own profile."""
    obj = _object(activity)
    if not isinstance(obj, dict):
        raise Ignored("Update of an object given by id only")
    if remote_accounts.actor_type_ok(obj):
        if id_of(obj) != sender.actor_uri:
            raise Ignored("Update of another actor")
        # Stored as a fetched actor is (the same checks), from the server that signed it.
        if actors.store_actor(obj, sender.actor_uri or "") is None:
            raise Ignored("an Update of the actor that we refuse")
        return
    if obj.get("type") not in remote_posts.NOTE_TYPES:
        raise Ignored(f"Update of a {obj.get('type')!r}")
    if remote_posts.store_note(obj, sender, activity=activity) is None:
        raise Ignored("no such post of the sender's")


@handles("Delete")
def delete(activity: Activity, sender: User, recipient: User | None) -> None:
    """A post of the sender's deleted (by id or Tombstone), or the sender's account itself."""
    uri = id_of(_object(activity))
    if uri is None:
        raise Ignored("Delete without an object")
    if uri == sender.actor_uri:
        remote_accounts.delete_account(sender)
        return
    post = db.session.scalar(sa.select(Post).where(Post.uri == uri))
    if post is None or post.user_id != sender.id:
        raise Ignored("no such post of the sender's")
    posts.delete_post(sender, post.id)


def _post_for(sender: User, obj: Any) -> Post:
    """The post an activity is about, if the sender may see it.

    :raises Ignored: we do not have it (a remote one we never stored is not fetched here).
    """
    post = remote_posts.post_by_uri(id_of(obj))
    if post is None or posts.visible_post(sender, post.id) is None:
        raise Ignored("no such post here")
    return post


@handles("Like")
def like(activity: Activity, sender: User, recipient: User | None) -> None:
    """The sender likes a local post: counted, and its author told."""
    post = _post_for(sender, _object(activity))
    if post.author.domain is not None:
        raise Ignored("a like of a remote post is its server's to count")
    reactions.add_reaction(sender, post, reactions.LIKE)


@handles("Announce")
def announce(activity: Activity, sender: User, recipient: User | None) -> None:
    """The sender reposts a post we have (local, or remote and stored): it shows on the timelines of
    the sender's local followers, counted, and a local author is told."""
    post = _post_for(sender, _object(activity))
    if post.visibility == Visibility.FOLLOWERS.value:
        raise Ignored("a followers-only post cannot be reposted")
    reactions.add_reaction(sender, post, reactions.REPOST)


def _undone(activity: Activity, sender: User) -> Activity:
    inner = _object(activity)
    if not isinstance(inner, dict) or id_of(inner.get("actor")) != sender.actor_uri:
        raise Ignored("Undo of someone else's activity")
    return inner


@handles("Undo:Like")
def undo_like(activity: Activity, sender: User, recipient: User | None) -> None:
    post = remote_posts.post_by_uri(id_of(_object(_undone(activity, sender))))
    if post is None or reactions.remove_reaction(sender, post, reactions.LIKE) is None:
        raise Ignored("no such like")


@handles("Undo:Announce")
def undo_announce(activity: Activity, sender: User, recipient: User | None) -> None:
    post = remote_posts.post_by_uri(id_of(_object(_undone(activity, sender))))
    if post is None or reactions.remove_reaction(sender, post, reactions.REPOST) is None:
        raise Ignored("no such repost")


@handles("Move")
def move(activity: Activity, sender: User, recipient: User | None) -> None:
    """The sender moved to another account (``target``), which says it is also the sender: the local
    followers follow the new account instead."""
    if id_of(_object(activity)) != sender.actor_uri:
        raise Ignored("Move of another actor")
    target_uri = id_of(activity.get("target"))
    target = actors.actor_by_uri(target_uri) if target_uri else None
    if target is None:
        target = remote_posts.local_user_by_uri(target_uri)
    if target is None or target.id == sender.id:
        raise Ignored("Move to an account we do not know")
    if sender.actor_uri not in remote_accounts.also_known_as(target):
        raise Ignored("the target does not say it is the sender (alsoKnownAs)")
    remote_accounts.move_followers(sender, target)
