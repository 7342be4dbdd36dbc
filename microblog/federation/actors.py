"""Remote actors: found by their key, fetched (signed) and stored as ``user`` rows with an origin.

A remote server says who its actors are; what it says is checked before a row is written: the actor's
id is on the host it was fetched from (after redirects), and so is its key, which the actor owns.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from microblog import search
from microblog.extensions import db
from microblog.federation import instances, keys, safe_http, urls, webfinger_client
from microblog.federation.sanitize import html_to_text
from microblog.federation.vocabulary import id_of
from microblog.models import URI_MAX, User
from microblog.models.limits import HANDLE_MAX
from microblog.models.users import ABOUT_ME_MAX
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
# A stored actor is fetched again (refresh=True: a signature failed) at most this often: a hostile
# server cannot make us fetch it in a loop.
REFRESH_INTERVAL = timedelta(minutes=1)
DISPLAY_NAME_MAX = 100
ALSO_KNOWN_AS_MAX = 20
# The names and hosts a remote username "name@host[:port]" is made of: what the profile URL
# (/user/<name@host>) and the accounts service's remote-username pattern accept (Mastodon's, Pleroma's
# and Misskey's names fit; an actor whose name does not is refused).
_NAME = re.compile(r"^[A-Za-z0-9_.~-]{1,100}$")
_HOST = re.compile(r"^[a-z0-9.-]{1,190}(:[0-9]{1,5})?$")


def _http_url(value: Any) -> str | None:
    """``value`` if it is an http(s) URL we can store, else None."""
    if isinstance(value, str) and len(value) <= URI_MAX and value.lower().startswith(("https://", "http://")):
        return value
    return None


def _link(value: Any) -> str | None:
    """The first URL of an ActivityStreams ``url``/``icon`` value: a string, a Link/Image, or a list."""
    if isinstance(value, list):
        for item in value:
            found = _link(item)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return _link(value.get("href")) or _link(value.get("url"))
    return _http_url(value)


def _text(value: Any, limit: int) -> str | None:
    """The plain text of an HTML string (a name, a bio), cut to ``limit``; None for none."""
    return html_to_text(value)[:limit] or None if isinstance(value, str) else None


def _on_host(value: Any, host: str) -> str | None:
    """``value`` if it is an http(s) URL on ``host``, else None."""
    url = _http_url(value)
    return url if url is not None and _same_host(url, host) else None


def _same_host(uri: str, host: str) -> bool:
    return bool(uri) and instances.domain_of(uri) == host and _http_url(uri) is not None


def validated_actor(doc: dict[str, Any], fetched_from: str) -> dict[str, Any] | None:
    """The fields of a ``user`` row from an actor document fetched from ``fetched_from`` (after
    redirects), or None if it is not an actor we accept (why: logged)."""
    host = instances.domain_of(fetched_from)
    actor_id = doc.get("id")
    key = doc.get("publicKey")
    if isinstance(key, list):
        key = next((item for item in key if isinstance(item, dict)), None)
    name = doc.get("preferredUsername")
    inbox = _http_url(doc.get("inbox"))
    if inbox is not None and not _same_host(inbox, host):
        inbox = None  # deliveries go to the actor's own server, never where a document points
    problem = None
    if doc.get("type") not in ACTOR_TYPES:
        problem = "not an actor type"
    elif not _HOST.match(host):
        problem = "a host name we cannot make a username with"
    elif not isinstance(actor_id, str) or not _same_host(actor_id, host):
        problem = "its id is not on the host it came from"
    elif not isinstance(name, str) or not _NAME.match(name):
        problem = "no usable preferredUsername"
    elif inbox is None:
        problem = "no inbox"
    elif not isinstance(key, dict) or key.get("owner") != actor_id or not isinstance(key.get("id"), str) \
            or not _same_host(key["id"], host) or not isinstance(key.get("publicKeyPem"), str):
        problem = "no public key owned by the actor on its host"
    if problem is not None:
        log.info("actor from %s refused: %s", fetched_from[:200], problem)
        return None
    assert isinstance(actor_id, str) and isinstance(name, str) and isinstance(key, dict)
    endpoints = doc.get("endpoints")
    if not isinstance(endpoints, dict):
        endpoints = {}
    summary = doc.get("summary")
    display = doc.get("name")
    aliases = doc.get("alsoKnownAs")
    aliases = [aliases] if isinstance(aliases, str) else aliases if isinstance(aliases, list) else []
    moved_to = id_of(doc.get("movedTo"))
    moved = actor_by_uri(moved_to) if moved_to and moved_to != actor_id else None
    icon = doc.get("icon")
    return {
        "username": f"{name}@{host}"[:HANDLE_MAX],
        "domain": host,
        "actor_uri": actor_id,
        "inbox_url": inbox,
        "shared_inbox_url": _on_host(endpoints.get("sharedInbox"), host),
        "followers_url": _on_host(doc.get("followers"), host),
        "profile_url": _link(doc.get("url")),
        "avatar_url": _link(icon.get("url") if isinstance(icon, dict) else icon),
        "display_name": _text(display, DISPLAY_NAME_MAX),
        "about_me": _text(summary, ABOUT_ME_MAX),
        "locked": doc.get("manuallyApprovesFollowers") is True,
        "key_id": key["id"],
        "public_key_pem": key["publicKeyPem"],
        "also_known_as": json.dumps([uri for uri in aliases if _http_url(uri)][:ALSO_KNOWN_AS_MAX]),
        "moved_to_id": moved.id if moved is not None and moved.domain is not None else None,
    }


def store_actor(doc: dict[str, Any], fetched_from: str) -> User | None:
    """Create or update the ``user`` row of the actor ``doc`` (fetched from ``fetched_from``); None
    when it is refused: not a valid actor, its domain blocked, or its name or key taken by another
    actor. Commits."""
    fields = validated_actor(doc, fetched_from)
    if fields is None or fields["domain"] == urls.local_domain() or instances.is_blocked(fields["domain"]):
        return None
    for _attempt in range(2):
        user = actor_by_uri(fields["actor_uri"])
        if user is not None and user.domain is None:
            return None  # a local account's id, served by someone else
        clash = db.session.scalar(sa.select(User).where(
            sa.or_(sa.func.lower(User.username) == fields["username"].lower(),
                   User.key_id == fields["key_id"]),
            User.actor_uri.is_distinct_from(fields["actor_uri"])))
        if clash is not None:
            log.info("actor %s refused: its name or key belongs to %s", fields["actor_uri"][:200],
                     clash.actor_uri)
            return None
        if user is None:
            user = User(email=f"{secrets.token_hex(16)}@remote.invalid", password_hash="!",
                        confirmed_at=utcnow(), notify_new_follower=False, notify_new_message=False,
                        notify_mention=False, notify_reply=False)
            db.session.add(user)
        for name, value in fields.items():
            setattr(user, name, value)
        user.fetched_at = utcnow()
        try:
            db.session.commit()
        except sa.exc.IntegrityError:  # another process stored the same actor meanwhile: read it again
            db.session.rollback()
            continue
        search.queue_users(user.id)  # remote accounts are found by people search too
        return user
    return actor_by_uri(fields["actor_uri"])


def fetch_actor(uri: str, *, signer: User | None = None) -> User | None:
    """Fetch the actor ``uri`` (signed by ``signer`` when given) and store it (see ``store_actor``).
    None: refused, unreachable, or not a valid actor. An actor that is gone (410) is not deleted here:
    its Delete activity does that."""
    if _http_url(uri) is None or instances.is_blocked(instances.domain_of(uri)):
        return None
    try:
        doc, final_url = safe_http.fetch_json_response(uri, signer=signer or keys.instance_signer())
    except safe_http.FetchError as exc:
        log.info("actor %s not fetched: %s", uri[:200], exc)
        return None
    return store_actor(doc, final_url)


def actor_for_key(key_id: str, *, refresh: bool = False) -> User | None:
    """The remote account that owns the key ``key_id``: stored, or fetched from its server (``refresh``:
    fetched again even when stored, after a signature failed to verify with the stored key: the
    actor may have a new key; at most once a minute per actor). None: no such actor, or its server
    cannot be reached."""
    stored = db.session.scalar(sa.select(User).where(User.key_id == key_id, User.domain.is_not(None)))
    if stored is not None and not refresh:
        return stored
    recent = stored is not None and stored.fetched_at is not None \
        and utcnow() - stored.fetched_at < REFRESH_INTERVAL
    if recent:
        return stored
    if _http_url(key_id) is None or instances.is_blocked(instances.domain_of(key_id)):
        return None
    owner = stored.actor_uri if stored is not None and stored.actor_uri else key_id.split("#", 1)[0]
    try:
        # Signed as the site (authorized fetch): servers that refuse unsigned GETs answer it.
        doc, final_url = safe_http.fetch_json_response(owner, signer=keys.instance_signer())
        if "inbox" not in doc and isinstance(doc.get("owner"), str):
            # The key is a document of its own: its owner is the actor, on the same host.
            if doc.get("id") != key_id or instances.domain_of(doc["owner"]) != instances.domain_of(final_url):
                return None
            doc, final_url = safe_http.fetch_json_response(doc["owner"], signer=keys.instance_signer())
    except safe_http.FetchError as exc:
        log.info("key %s not fetched: %s", key_id[:200], exc)
        return stored if refresh else None
    actor = store_actor(doc, final_url)
    return actor if actor is not None and actor.key_id == key_id else None


def actor_by_uri(uri: str) -> User | None:
    """The stored account whose actor id is ``uri`` (remote), or None."""
    return db.session.scalar(sa.select(User).where(User.actor_uri == uri))


def resolve_handle(handle: str, *, signer: User | None = None) -> User | None:
    """The account ``user@host`` (or ``@user@host``, ``acct:user@host``): a local one when the host is
    ours, else found by WebFinger on its host and fetched (stored or refreshed). None: unknown."""
    parsed = webfinger_client.parse_handle(handle)
    if parsed is None:
        return None
    name, host = parsed
    if host == urls.local_domain():
        return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == name.lower(),
                                                       User.domain.is_(None)))
    if instances.is_blocked(host):
        return None
    actor_uri = webfinger_client.lookup(name, host)
    if actor_uri is None:
        return None
    return fetch_actor(actor_uri, signer=signer)
