"""Search's way into the fediverse: ``@user@host`` and the URLs of posts and profiles, found here or
fetched (signed as the person searching) from their servers and stored."""

from __future__ import annotations

import importlib
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from microblog.extensions import db
from microblog.federation import actors, instances, safe_http, urls, webfinger_client
from microblog.models import URI_MAX, Post, User
from microblog.services import posts

log = logging.getLogger(__name__)

NOTE_TYPES = frozenset({"Note", "Article", "Question", "Page"})
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def looks_resolvable(query: str) -> bool:
    """Whether a search query names one account or post elsewhere: a handle or a URL."""
    text = query.strip()
    if len(text) > URI_MAX:
        return False
    if _URL.match(text):
        return True
    return "@" in text.lstrip("@") and webfinger_client.parse_handle(text) is not None


def resolved_url(found: User | Post, viewer: User) -> str | None:
    """Where search sends ``viewer`` for what ``resolve`` found: its page, if ``viewer`` may see it."""
    if isinstance(found, User):
        return None if found.deactivated_at is not None else url_for("main.user", username=found.username)
    visible = posts.visible_post(viewer, found.id) is not None
    return url_for("main.post", post_id=found.id) if visible else None


def resolve(query: str, viewer: User) -> User | Post | None:
    """The account or post that ``query`` names (``@user@host``, ``user@host``, or a URL), local or
    fetched from its server (signed as ``viewer``) and stored. None: it names nothing we can show.
    Never raises for what a remote server does."""
    text = query.strip()
    if not looks_resolvable(text):
        return None
    try:
        if not _URL.match(text):
            return actors.resolve_handle(text, signer=viewer)
        if urls.is_local(text):
            return _local(text)
        return _stored(text) or _fetch(text, viewer)
    except safe_http.FetchError as exc:
        log.info("search: %s not resolved: %s", text[:200], exc)
        return None


def _local(url: str) -> User | Post | None:
    """Our own profile or post at ``url``."""
    path = urlsplit(url).path or "/"
    try:
        endpoint, args = current_app.url_map.bind(urls.local_domain()).match(path, method="GET")
    except (HTTPException, RequestRedirect):
        return None
    if endpoint == "main.user":
        name = str(args["username"]).lower()
        return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == name))
    if endpoint == "main.post":
        return db.session.get(Post, args["post_id"])
    return None


def _stored(url: str) -> User | Post | None:
    """A remote post or account we already have, by its id or its page's URL."""
    post = db.session.scalar(sa.select(Post).where(sa.or_(Post.uri == url, Post.url == url)).limit(1))
    if post is not None:
        return post
    return db.session.scalar(sa.select(User).where(
        User.domain.is_not(None), sa.or_(User.actor_uri == url, User.profile_url == url)).limit(1))


def _fetch(url: str, viewer: User) -> User | Post | None:
    if instances.is_blocked(instances.domain_of(url)):
        return None
    doc, final_url = safe_http.fetch_json_response(url, signer=viewer)
    kind = doc.get("type")
    if kind in actors.ACTOR_TYPES:
        return actors.store_actor(doc, final_url)
    if kind in NOTE_TYPES:
        return _store_note(doc, final_url, viewer)
    return None


def _author_of(note: dict[str, Any]) -> str | None:
    value = note.get("attributedTo")
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, str | dict)), None)
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _store_note(note: dict[str, Any], fetched_from: str, viewer: User) -> Post | None:
    """A fetched note, stored through remote_posts if it and its author are on the host it came from."""
    host = instances.domain_of(fetched_from)
    note_id = note.get("id")
    author_uri = _author_of(note)
    if not isinstance(note_id, str) or instances.domain_of(note_id) != host or author_uri is None \
            or instances.domain_of(author_uri) != host:
        log.info("search: note from %s refused: its id or author is on another host", fetched_from[:200])
        return None
    existing = db.session.scalar(sa.select(Post).where(Post.uri == note_id))
    if existing is not None:
        return existing
    author = actors.actor_by_uri(author_uri) or actors.fetch_actor(author_uri, signer=viewer)
    if author is None or author.domain is None:
        return None
    # CONTENT's module (stores and sanitizes notes), imported here: it stands on actors and this module.
    remote_posts = importlib.import_module("microblog.federation.remote_posts")
    stored: Post | None = remote_posts.store_note(note, author)
    return stored
