"""Remote posts: a ``Note`` (or Article, Page, Question) of another server stored as a ``post`` row with
its origin: its HTML sanitized, its plain text for search and previews, who it is for, what it answers,
whom it mentions, its hashtags and its images (referenced, not copied)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from microblog import search
from microblog.extensions import db
from microblog.federation import instances, urls
from microblog.federation.sanitize import clean_html, html_to_text, safe_url
from microblog.federation.vocabulary import as_list, id_of
from microblog.models import ID_MAX, POST_BODY_CEILING, SUMMARY_MAX, URI_MAX, Post, PostEdit, User, Visibility
from microblog.services import counters, posts, tags
from microblog.timeutil import utcnow

NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})
# What a remote post may bring: beyond these its HTML is refused, its lists are cut.
CONTENT_MAX = 100_000
TAGS_MAX = 30
MENTIONS_MAX = 50
ATTACHMENTS_MAX = 4
DESCRIPTION_MAX = 1_500
POLL_OPTIONS_MAX = 20
PUBLIC_NAMES = frozenset({urls.AS_PUBLIC, "as:Public", "Public"})
_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]([a-zA-Z0-9]{2,8}))*$")
_REGIONAL = {"zh-cn": "zh_CN", "zh-tw": "zh_TW"}
_LOCAL_POST = re.compile(r"^/post/([0-9]{1,18})/?$")
_LOCAL_USER = re.compile(r"^/user/([^/@]+)/?$")


# -- reading ActivityStreams values -------------------------------------------------------------------
def addressees(obj: dict[str, Any]) -> set[str]:
    """Everyone ``to`` and ``cc`` name (ids)."""
    return {uri for key in ("to", "cc") for uri in map(id_of, as_list(obj.get(key))) if uri}


def is_public(obj: dict[str, Any]) -> bool:
    return bool(addressees(obj) & PUBLIC_NAMES)


def followers_collection(author: User) -> str:
    """The id of ``author``'s followers collection (Mastodon's ``<actor>/followers`` until known)."""
    return author.followers_url or f"{author.actor_uri}/followers"


# -- local things by their ActivityPub ids --------------------------------------------------------
def local_user_by_uri(uri: str | None) -> User | None:
    """The local account whose actor id is ``uri`` (``<site>/user/<name>``), or None."""
    if not uri or not urls.is_local(uri):
        return None
    match = _LOCAL_USER.match(urlsplit(uri).path)
    if match is None:
        return None
    name = unquote(match.group(1)).lower()
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == name,
                                                   User.domain.is_(None)))


def post_by_uri(uri: str | None) -> Post | None:
    """The post whose ActivityPub id is ``uri``: a local one (``<site>/post/<id>``), or a stored
    remote one."""
    if not uri:
        return None
    if urls.is_local(uri):
        match = _LOCAL_POST.match(urlsplit(uri).path)
        post_id = int(match.group(1)) if match else 0
        return db.session.get(Post, post_id) if 0 < post_id <= ID_MAX else None
    return db.session.scalar(sa.select(Post).where(Post.uri == uri))


# -- a Note's parts ---------------------------------------------------------------------------------
def _poll_options(note: dict[str, Any]) -> str:
    """A ``Question``'s choices as a list after its text (this site has no polls: it shows them)."""
    choices: list[str] = []
    for key in ("oneOf", "anyOf"):
        for item in as_list(note.get(key)):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and len(choices) < POLL_OPTIONS_MAX:
                choices.append(name)
    if note.get("type") != "Question" or not choices:
        return ""
    return "<ul>" + "".join(f"<li>{escape(html_to_text(name))}</li>" for name in choices) + "</ul>"


def _content(note: dict[str, Any]) -> tuple[str | None, str | None]:
    """The HTML of a note and its language (the key of ``contentMap``, when it has a valid one)."""
    content = note.get("content")
    content_map = note.get("contentMap")
    language = None
    if isinstance(content_map, dict):
        for key, value in content_map.items():
            if isinstance(key, str) and isinstance(value, str):
                language = _language(key)
                if not isinstance(content, str):
                    content = value
                break
    if not isinstance(content, str):
        return None, language
    return content + _poll_options(note), language


def _language(tag: str) -> str | None:
    match = _LANGUAGE.match(tag)
    if match is None:
        return None
    regional = _REGIONAL.get(tag.lower().replace("_", "-"))
    return regional or match.group(1).lower()


def _published(value: Any) -> datetime:
    """When the note was published, never in the future (now when missing or malformed)."""
    now = utcnow()
    if not isinstance(value, str):
        return now
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return now
    if when.tzinfo is None:
        return now
    return min(when, now)


def visibility_of(note: dict[str, Any]) -> str:
    """Public when ``to`` names the public collection, unlisted when ``cc`` does, else followers-only."""
    if {id_of(uri) for uri in as_list(note.get("to"))} & PUBLIC_NAMES:
        return Visibility.PUBLIC.value
    if {id_of(uri) for uri in as_list(note.get("cc"))} & PUBLIC_NAMES:
        return Visibility.UNLISTED.value
    return Visibility.FOLLOWERS.value


def _url(note: dict[str, Any]) -> str | None:
    for item in as_list(note.get("url")):
        href = item.get("href") if isinstance(item, dict) else item
        if isinstance(href, str) and len(href) <= URI_MAX and safe_url(href) == href \
                and href.lower().startswith(("http://", "https://")):
            return href
    return None


def attachments_of(note: dict[str, Any], domain: str) -> list[dict[str, Any]]:
    """The images of a note (at most four, http(s) only), as stored in ``remote_attachments``; none
    from a domain whose media the moderators reject."""
    if instances.rejects_media(domain):
        return []
    found: list[dict[str, Any]] = []
    for item in as_list(note.get("attachment")):
        if not isinstance(item, dict):
            continue
        media_type = item.get("mediaType")
        url = item.get("url")
        if isinstance(url, list):
            url = url[0] if url else None
        if isinstance(url, dict):
            media_type = url.get("mediaType", media_type)
            url = url.get("href")
        if not isinstance(url, str) or len(url) > URI_MAX or not url.lower().startswith(("http://", "https://")):
            continue
        if url != safe_url(url):
            continue
        if not (isinstance(media_type, str) and media_type.lower().startswith("image/")) \
                and item.get("type") != "Image":
            continue
        name = item.get("name")
        image: dict[str, Any] = {
            "url": url, "mediaType": media_type if isinstance(media_type, str) else None,
            "name": html_to_text(name)[:DESCRIPTION_MAX] if isinstance(name, str) else None}
        for key in ("width", "height"):
            value = item.get(key)
            image[key] = value if isinstance(value, int) and 0 < value < 100_000 else None
        blurhash = item.get("blurhash")
        image["blurhash"] = blurhash if isinstance(blurhash, str) and len(blurhash) <= 100 else None
        found.append(image)
        if len(found) == ATTACHMENTS_MAX:
            break
    return found


def remote_images(post: Post) -> list[dict[str, Any]]:
    """A stored remote post's images (``remote_attachments``), for its card."""
    if not post.remote_attachments:
        return []
    try:
        images = json.loads(post.remote_attachments)
    except ValueError:
        return []
    return [image for image in images if isinstance(image, dict) and isinstance(image.get("url"), str)]


def _tags(note: dict[str, Any]) -> tuple[list[str], list[User]]:
    """The hashtags (normalized names) and the local accounts a note's ``tag`` list names."""
    names: list[str] = []
    people: list[User] = []
    items = [item for item in as_list(note.get("tag")) if isinstance(item, dict)]
    for item in items:
        if item.get("type") == "Hashtag" and isinstance(item.get("name"), str) and len(names) < TAGS_MAX:
            name = tags.valid_tag_name(item["name"].lstrip("#"))
            if name:
                names.append(name)
        elif item.get("type") == "Mention" and len(people) < MENTIONS_MAX:
            person = local_user_by_uri(id_of(item.get("href")))
            if person is not None and person not in people:
                people.append(person)
    return names, people


def _body(text: str, fallbacks: list[str | None]) -> str:
    """The plain text a post keeps: at most POST_BODY_CEILING characters, never empty."""
    if not text:
        text = next((value.strip() for value in fallbacks if value and value.strip()), "") or "-"
    if len(text) > POST_BODY_CEILING:
        text = text[:POST_BODY_CEILING - 1].rstrip() + "…"
    return text


def _summary(note: dict[str, Any]) -> str | None:
    summary = note.get("summary")
    text = html_to_text(summary) if isinstance(summary, str) else ""
    return text[:SUMMARY_MAX] or None


# -- storing ------------------------------------------------------------------------------------------
def check_note(note: Any, author: User) -> str | None:
    """The id of ``note`` when it is a post ``author`` may have written: of a post type, with an id on
    the author's server, attributed to them, with content. None otherwise."""
    if not isinstance(note, dict) or note.get("type") not in NOTE_TYPES or not author.actor_uri:
        return None
    uri = id_of(note.get("id"))
    if uri is None or instances.domain_of(uri) != instances.domain_of(author.actor_uri):
        return None
    attributed = [id_of(item) for item in as_list(note.get("attributedTo"))]
    if not attributed or any(uri_ != author.actor_uri for uri_ in attributed):
        return None  # another actor's post, or one claiming several authors
    content, _language = _content(note)
    if content is None or len(content) > CONTENT_MAX:
        return None
    return uri


def store_note(note: dict[str, Any], author: User, *, activity: dict[str, Any] | None = None) -> Post | None:
    """Store (or, for an ``Update`` activity, change) the remote post ``note`` by ``author``. Returns
    the post, or None when the note is not one ``author`` may publish (wrong type, an id on another
    server, attributed to someone else, no content), or an update of a post we do not have.

    A new post counts on its author and on the post it answers, and notifies the local people it
    answers and mentions; an update keeps the old text as a PostEdit. Commits.
    """
    uri = check_note(note, author)
    if uri is None:
        return None
    existing = db.session.scalar(sa.select(Post).where(Post.uri == uri))
    updating = isinstance(activity, dict) and activity.get("type") == "Update"
    if existing is not None:
        if existing.user_id != author.id:
            return None
        return _update(existing, note, author) if updating else existing
    if updating:
        return None  # an edit of a post we never had: nothing to change
    return _create(uri, note, author)


def _create(uri: str, note: dict[str, Any], author: User) -> Post:
    content, language = _content(note)
    html = clean_html(content or "")
    images = attachments_of(note, author.domain or instances.domain_of(uri))
    url = _url(note)
    body = _body(html_to_text(html), [image["name"] for image in images] + [url, uri])
    parent = post_by_uri(id_of(note.get("inReplyTo")))
    post = Post(body=body, author=author, uri=uri, url=url, content_html=html, summary=_summary(note),
                visibility=visibility_of(note), timestamp=_published(note.get("published")),
                language=language, remote_attachments=json.dumps(images) if images else None)
    if note.get("inReplyTo"):
        post.is_reply = True
    if parent is not None:
        post.in_reply_to_id = parent.id
        post.in_reply_to_user_id = parent.user_id
    db.session.add(post)
    counters.posts_added(author.id)
    db.session.flush()
    if parent is not None:
        posts._count_reply(parent.id, 1)
        if parent.author.domain is None:
            posts._notify_reply(parent, post)
    names, people = _tags(note)
    tags.file_post_under(post, names, people)
    db.session.commit()
    search.queue_posts(post.id)
    return post


def _update(post: Post, note: dict[str, Any], author: User) -> Post:
    content, language = _content(note)
    html = clean_html(content or "")
    images = attachments_of(note, author.domain or "")
    body = _body(html_to_text(html), [image["name"] for image in images] + [post.url, post.uri])
    summary = _summary(note)
    attachments = json.dumps(images) if images else None
    if (html, summary, attachments) == (post.content_html, post.summary, post.remote_attachments):
        return post
    if (body, summary) != (post.body, post.summary):
        db.session.add(PostEdit(post_id=post.id, body=post.body, summary=post.summary,
                                written_at=post.edited_at or post.timestamp))
    post.body, post.content_html, post.summary = body, html, summary
    post.remote_attachments = attachments
    post.language = language or post.language
    post.edited_at = utcnow()
    names, people = _tags(note)
    tags.refile_post_under(post, names, people)
    db.session.commit()
    search.queue_posts(post.id)
    return post
