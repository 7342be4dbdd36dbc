"""The ActivityPub ids of local things and the host this site federates as.

Actors and posts are identified by the URLs of their pages (``/user/<name>``, ``/post/<id>``): a browser
gets HTML there, a server asking for ``application/activity+json`` gets JSON (content negotiation,
federation/negotiation.py). Everything else hangs below them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from microblog.external_urls import external_url


def local_domain() -> str:
    """The host (with its port, if any) of SITE_URL: the domain in ``@name@domain``."""
    return urlsplit(current_app.config["SITE_URL"]).netloc.lower()


def site_root() -> str:
    site = urlsplit(current_app.config["SITE_URL"])
    return f"{site.scheme or 'https'}://{site.netloc}"


def is_local(uri: str | None) -> bool:
    """Whether ``uri`` names something on this site."""
    if not uri:
        return False
    parts = urlsplit(uri)
    return parts.netloc.lower() == local_domain() and parts.scheme in ("http", "https")


def actor_uri(username: str) -> str:
    return external_url("main.user", username=username)


def instance_actor_uri() -> str:
    """The site's own actor (an ``Application``), which signs what no one person does."""
    return external_url("federation.instance_actor")


def key_id(username: str) -> str:
    return actor_uri(username) + "#main-key"


def inbox_uri(username: str) -> str:
    return external_url("federation.inbox", username=username)


def shared_inbox_uri() -> str:
    return external_url("federation.shared_inbox")


def outbox_uri(username: str) -> str:
    return external_url("federation.outbox", username=username)


def followers_uri(username: str) -> str:
    return external_url("main.followers", username=username)


def following_uri(username: str) -> str:
    return external_url("main.following", username=username)


def note_uri(post_id: int) -> str:
    return external_url("main.post", post_id=post_id)


def activity_uri(kind: str, *parts: object) -> str:
    """The id of an activity of ours: ``<site>/activities/<kind>/<part>/...`` (kept stable, so that an
    Undo can name the activity it undoes by building its id again)."""
    tail = "/".join(str(part) for part in parts)
    return f"{site_root()}/activities/{kind.lower()}/{tail}"


AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_TYPES = ("application/activity+json", "application/ld+json")
