"""Local accounts and posts as ActivityStreams objects: a ``Person`` and a ``Note``, the JSON served at
their ids and carried in activities. Plain JSON with the usual ``@context`` (never expanded)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from markupsafe import escape

from microblog.extensions import db
from microblog.external_urls import external_media_url, external_url
from microblog.federation import keys, urls
from microblog.models import Media, MediaStatus, Mention, Post, PostTag, Tag, User, Visibility
from microblog.post_html import text_html

AS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"
# The terms Mastodon and others add, named so that a reader without JSON-LD knows them.
EXTENSIONS = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "blurhash": "toot:blurhash",
}
CONTEXT: list[Any] = [AS, SECURITY, EXTENSIONS]


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_id(user: User) -> str:
    """The ActivityPub id of any account, local or remote."""
    return user.actor_uri if user.domain is not None and user.actor_uri else urls.actor_uri(user.username)


def post_id(post: Post) -> str:
    """The ActivityPub id of any post, local or remote."""
    return post.uri if post.uri else urls.note_uri(post.id)


def handle(user: User) -> str:
    """``@name@domain`` for anyone."""
    return f"@{user.username}" if user.domain is not None else f"@{user.username}@{urls.local_domain()}"


def _avatar(user: User) -> str:
    if user.avatar_key:
        return external_media_url(user.avatar_key) or ""
    return external_url("main.avatar", digest=user.avatar_digest)


def actor_json(user: User) -> dict[str, Any]:
    """The ``Person`` of local ``user``, with its public key (made now if it has none yet)."""
    keys.ensure_keys(user)
    uri = urls.actor_uri(user.username)
    person: dict[str, Any] = {
        "@context": CONTEXT,
        "id": uri,
        "type": "Person",
        "preferredUsername": user.username,
        "name": user.display_name or user.username,
        "summary": text_html(user.about_me) if user.about_me else "",
        "url": uri,
        "inbox": urls.inbox_uri(user.username),
        "outbox": urls.outbox_uri(user.username),
        "followers": urls.followers_uri(user.username),
        "following": urls.following_uri(user.username),
        "endpoints": {"sharedInbox": urls.shared_inbox_uri()},
        "manuallyApprovesFollowers": bool(user.locked),
        "discoverable": True,
        "published": iso(user.created_at),
        "publicKey": {"id": urls.key_id(user.username), "owner": uri, "publicKeyPem": user.public_key_pem},
        "icon": {"type": "Image", "url": _avatar(user)},
    }
    if user.header_key:
        person["image"] = {"type": "Image", "url": external_media_url(user.header_key)}
    if user.moved_to_id is not None:
        moved = db.session.get(User, user.moved_to_id)
        if moved is not None:
            person["movedTo"] = actor_id(moved)
    if user.also_known_as:
        person["alsoKnownAs"] = json.loads(user.also_known_as)
    return person


def audience(post: Post, mentioned: list[User]) -> tuple[list[str], list[str]]:
    """``to`` and ``cc`` of a local post, by its visibility, with the accounts it mentions."""
    followers = urls.followers_uri(post.author.username)
    people = [actor_id(user) for user in mentioned]
    if post.visibility == Visibility.PUBLIC:
        return [urls.AS_PUBLIC], [followers, *people]
    if post.visibility == Visibility.UNLISTED:
        return [followers], [urls.AS_PUBLIC, *people]
    return [followers, *people], []


def mentioned_users(post: Post) -> list[User]:
    return list(db.session.scalars(sa.select(User).join(Mention, Mention.user_id == User.id)
                                   .where(Mention.post_id == post.id).order_by(User.id)))


def note_json(post: Post, *, with_context: bool = True) -> dict[str, Any]:
    """The ``Note`` of local ``post``."""
    mentioned = mentioned_users(post)
    to, cc = audience(post, mentioned)
    content = text_html(post.body, [user.username for user in mentioned if user.domain is None])
    note: dict[str, Any] = {
        "id": urls.note_uri(post.id),
        "type": "Note",
        "attributedTo": urls.actor_uri(post.author.username),
        "content": content,
        "published": iso(post.timestamp),
        "url": urls.note_uri(post.id),
        "to": to,
        "cc": cc,
        "sensitive": bool(post.summary),
        "summary": post.summary,
        "inReplyTo": None,
        "tag": [{"type": "Mention", "href": actor_id(user), "name": handle(user)} for user in mentioned],
        "attachment": [],
    }
    if with_context:
        note = {"@context": CONTEXT, **note}
    if post.language:
        note["contentMap"] = {post.language.split("_")[0]: content}
    if post.edited_at is not None:
        note["updated"] = iso(post.edited_at)
    if post.in_reply_to_id is not None:
        parent = db.session.get(Post, post.in_reply_to_id)
        if parent is not None:
            note["inReplyTo"] = post_id(parent)
    tag_names = db.session.scalars(sa.select(Tag.name).join(PostTag, PostTag.tag_id == Tag.id)
                                   .where(PostTag.post_id == post.id).order_by(Tag.name))
    note["tag"] += [{"type": "Hashtag", "href": external_url("tags.tag", name=name), "name": f"#{name}"}
                    for name in tag_names]
    if post.media_count:
        images = db.session.scalars(sa.select(Media).where(Media.post_id == post.id,
                                                           Media.status == MediaStatus.READY)
                                    .order_by(Media.position))
        note["attachment"] = [_document(image) for image in images]
    return note


def _document(image: Media) -> dict[str, Any]:
    document: dict[str, Any] = {"type": "Document", "mediaType": image.mime or "image/jpeg",
                                "url": external_media_url(image.file_key),
                                "name": image.description or None}
    if image.width and image.height:
        document.update(width=image.width, height=image.height)
    if image.blurhash:
        document["blurhash"] = image.blurhash
    return document


def profile_link(user: User) -> str:
    """An HTML link to ``user``'s profile, for ``content`` that names them."""
    return f'<a href="{escape(actor_id(user))}">{escape(handle(user))}</a>'
