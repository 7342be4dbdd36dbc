"""Content negotiation: the pages of a profile, a post, and the follower lists are also their
ActivityPub objects. A request that prefers ``application/activity+json`` (or ``application/ld+json``
with the ActivityStreams profile) to HTML gets the JSON; a browser gets the page, at the same URL.

A hook before the view answers the JSON (the main blueprint is not imported: only its endpoints'
names), and one after it adds ``Vary: Accept`` to both kinds of answer, so that no cache hands one
to a client that asked for the other. The HTTP cache's ETags (http_cache.py) are hashes of the body,
so a page's ETag never matches its JSON and a 304 is only ever for the representation asked for.

Followers-only posts are served only to a signed GET (HTTP Signatures) by an actor the post is
addressed to; the outbox and the ids of our activities are routes of their own here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, jsonify, request
from werkzeug.http import parse_options_header

from microblog.extensions import db
from microblog.federation import actors, collections, httpsig, instances, objects
from microblog.federation.blueprint import bp
from microblog.models import ID_MAX, Post, User, Visibility
from microblog.services import accounts, posts

ACTIVITY_JSON = "application/activity+json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"
HTML_TYPES = ("text/html", "application/xhtml+xml")
NEGOTIATED = frozenset({"main.user", "main.post", "main.followers", "main.following"})


# -- which representation ---------------------------------------------------------------------
def _accepted(header: str) -> list[tuple[str, dict[str, str], float]]:
    """The media ranges of an Accept header, in the client's order: (type, parameters, quality)."""
    ranges = []
    for item in header.split(","):
        if not item.strip():
            continue
        kind, params = parse_options_header(item)
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 0.0
        ranges.append((kind.lower(), params, max(0.0, min(quality, 1.0))))
    return ranges


def _is_activity_type(kind: str, params: dict[str, str]) -> bool:
    if kind == ACTIVITY_JSON:
        return True
    return kind == "application/ld+json" and params.get("profile", AS_PROFILE).strip() == AS_PROFILE


def wants_activity_json(header: str | None = None) -> bool:
    """Whether the request (or this Accept header) prefers an ActivityStreams type to HTML. A tie with
    an explicit text/html goes to whichever the client listed first; a wildcard loses to an explicit
    ActivityStreams type of the same quality (it is less specific)."""
    ranges = _accepted(request.headers.get("Accept", "") if header is None else header)
    activity = [(position, quality) for position, (kind, params, quality) in enumerate(ranges)
                if _is_activity_type(kind, params) and quality > 0]
    if not activity:
        return False
    activity_quality = max(quality for _position, quality in activity)
    activity_first = min(position for position, quality in activity if quality == activity_quality)
    html = [(position, quality) for position, (kind, _params, quality) in enumerate(ranges)
            if kind in HTML_TYPES]
    if html:
        html_quality = max(quality for _position, quality in html)
        html_first = min(position for position, quality in html if quality == html_quality)
        return activity_quality > html_quality or (activity_quality == html_quality
                                                   and activity_first < html_first)
    wildcard = [quality for kind, _params, quality in ranges if kind in ("text/*", "*/*")]
    return activity_quality >= max(wildcard, default=0.0)


def activity_response(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Content-Type"] = f"{ACTIVITY_JSON}; charset=utf-8"
    return response


def not_found(message: str = "Not found.") -> Response:
    response = jsonify(error=message)
    response.status_code = 404
    return response


def _bad_request(message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 400
    return response


# -- who is asking ----------------------------------------------------------------------------
def signed_actor() -> User | None:
    """The remote actor whose valid HTTP Signature this request carries (the key refetched once if it
    fails to verify: a rotated key), or None: unsigned, a bad signature, a blocked server."""
    try:
        key_id = httpsig.key_id_of(request.headers)
    except httpsig.SignatureError:
        return None
    if instances.is_blocked(instances.domain_of(key_id)):
        return None
    target = request.script_root + request.path
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    for refresh in (False, True):
        signer = actors.actor_for_key(key_id, refresh=refresh)
        if signer is None or not signer.public_key_pem:
            continue
        try:
            httpsig.verify_request(request.method, target, request.headers, None, signer.public_key_pem)
        except httpsig.SignatureError:
            continue
        return signer
    return None


# -- the objects ------------------------------------------------------------------------------
def local_account(username: str) -> User | None:
    """The local, active account of this name: the only ones that are actors here."""
    user = accounts.get_user_by_username(username)
    if user is None or user.domain is not None or user.deactivated_at is not None:
        return None
    return user


def _actor(username: str) -> Response:
    user = local_account(username)
    if user is None:
        return not_found("No such actor.")
    return activity_response(objects.actor_json(user))


def _note(post_id: int) -> Response:
    if not 0 < post_id <= ID_MAX:
        return not_found()
    row = db.session.execute(sa.select(Post.visibility, Post.uri, User.domain)
                             .join(User, User.id == Post.user_id).where(Post.id == post_id)).first()
    if row is None or row.uri is not None or row.domain is not None:
        return not_found()  # remote posts are served by their own server
    signer = None
    if row.visibility == Visibility.FOLLOWERS.value:
        signer = signed_actor()
        if signer is None:
            return not_found()
    post = posts.visible_post(signer, post_id)  # the visibility rule: hidden, deleted, audience
    if post is None:
        return not_found()
    response = activity_response(objects.note_json(post))
    if signer is not None:
        response.cache_control.private = True
        response.cache_control.no_store = True
    return response


def _collection(kind: str, username: str) -> Response:
    user = local_account(username)
    if user is None:
        return not_found("No such actor.")
    page = request.args.get("page")
    if page is None:
        return activity_response(collections.follow_collection(user, kind))
    if not page.isdigit() or len(page) > 9:
        return _bad_request("page must be a number from 1.")
    body = collections.follow_page(user, kind, int(page))
    return activity_response(body) if body is not None else not_found("No such page.")


def _followers(username: str) -> Response:
    return _collection("followers", username)


def _following(username: str) -> Response:
    return _collection("following", username)


ANSWERS: dict[str, Callable[..., Response]] = {
    "main.user": _actor,
    "main.post": _note,
    "main.followers": _followers,
    "main.following": _following,
}


def answer_activity_json() -> Response | None:
    """before_request: the JSON of a negotiated page for a client that prefers it (None: the page)."""
    if request.endpoint not in NEGOTIATED or request.method not in ("GET", "HEAD"):
        return None
    if not current_app.config["FEDERATION_ENABLED"] or not wants_activity_json():
        return None
    return ANSWERS[request.endpoint](**(request.view_args or {}))


def vary_on_accept(response: Response) -> Response:
    """after_request: the negotiated pages and their JSON differ by Accept, and caches must know it."""
    if request.endpoint in NEGOTIATED:
        response.vary.add("Accept")
    return response


def register_negotiation(app: Flask) -> None:
    app.before_request(answer_activity_json)
    app.after_request(vary_on_accept)


# -- the outbox and our activities' ids ---------------------------------------------------------
@bp.get("/user/<username>/outbox")
def outbox(username: str):
    """The outbox: the ``Create`` of each public post, newest first, 20 a page (``?page=true``, then
    ``&max_id=<id>``)."""
    if not current_app.config["FEDERATION_ENABLED"]:
        return not_found()
    user = local_account(username)
    if user is None:
        return not_found("No such actor.")
    if request.args.get("page") is None:
        return activity_response(collections.outbox_collection(user))
    max_id = request.args.get("max_id")
    if max_id is not None and (not max_id.isdigit() or not 0 < int(max_id) <= ID_MAX):
        return _bad_request("max_id must be a post id.")
    body = collections.outbox_page(user, int(max_id) if max_id is not None else None)
    return activity_response(body) if body is not None else not_found("No such page.")


@bp.get("/activities/<kind>/<path:rest>")
def activity(kind: str, rest: str):
    """The id of an activity of ours: the ``Create`` of a post that anyone may see is served again;
    every other id answers a clean 404 (they are not kept)."""
    if not current_app.config["FEDERATION_ENABLED"] or kind != "create" or not rest.isdigit() \
            or not 0 < int(rest) <= ID_MAX:
        return not_found()
    post = posts.visible_post(None, int(rest))
    if post is None or post.uri is not None or post.author.domain is not None:
        return not_found()
    return activity_response(collections.create_activity(post))

