"""Mastodon's statuses API (docs: methods/statuses): post, read, edit and delete statuses, their
conversation, edit history and source, and favourites, reblogs and bookmarks.

The views are thin: they read the request, find the status as the caller may see it
(``status_lookup``: what cannot be seen is 404, like what does not exist) and call the services
(``posts``, ``reactions``, ``threads``, ``idempotency``), whose refusals become Mastodon's errors
(``_domain_error``). Statuses are serialized a page at a time (``status_entity.statuses``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, request

from microblog.exceptions import AccountSuspended, DomainError, PermissionDenied, http_status
from microblog.extensions import db
from microblog.mastodon import direct, entities, status_edits, status_params
from microblog.mastodon import status_lookup as lookup
from microblog.mastodon.auth import (
    DISABLED,
    current_mastodon_user,
    current_user_or_none,
    mastodon_abort,
    oauth_optional,
    oauth_required,
    params,
    text_param,
)
from microblog.mastodon.listing import list_response, window
from microblog.mastodon.paths import route
from microblog.mastodon.status_entity import status, statuses
from microblog.models import Announce, Like, Post, User
from microblog.services import idempotency, posts, reactions, threads

bp = Blueprint("mastodon_statuses", __name__)
T = TypeVar("T")

NOT_FOUND = "Record not found"
NOT_AVAILABLE = "This action is not available"
# Mastodon's words for a refusal, by status (422 carries the service's reason after them).
_REFUSALS = {403: "This action is not allowed", 404: NOT_FOUND, 413: "Request too large",
             503: "Service unavailable"}


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    """A service's refusal in Mastodon's shape: 422 ``Validation failed: <reason>``, else its words."""
    db.session.rollback()
    if isinstance(exc, AccountSuspended):
        return {"error": DISABLED}, 403
    code = http_status(exc)
    if code == 422:
        return {"error": f"Validation failed: {exc.message}"}, 422
    return {"error": _REFUSALS.get(code, "Bad request")}, code


def _found(value: T | None) -> T:
    if value is None:
        mastodon_abort(404, NOT_FOUND)
    return value


# -- posting, reading, editing, deleting -----------------------------------------------------------
@route(bp, "/api/v1/statuses", methods=["POST"])
@oauth_required("write:statuses")
def create_status():
    """Post a status (form or JSON); an ``Idempotency-Key`` seen within the hour answers the status it
    made then. ``visibility: direct`` sends a private message to the accounts mentioned instead
    (``mastodon.direct``). A refusal of the rules (too long, empty, a reply to someone who blocked the
    author, an image that is not theirs) is 422; a reply to a status they cannot see is 404."""
    user = current_mastodon_user()
    values = params()
    if values.get("visibility") == status_params.DIRECT:
        status_params.check_supported(values)
        return direct.create_direct_status(user, values)
    new = status_params.new_status(values)
    parent = _found(lookup.find_post(user, new.in_reply_to)) if new.in_reply_to is not None else None
    try:
        post = idempotency.publish_once(
            user, request.headers.get("Idempotency-Key"), new.body, summary=new.summary,
            in_reply_to=parent.id if parent else None, visibility=new.visibility, media_ids=new.media_ids)
    except PermissionDenied as exc:
        if isinstance(exc, AccountSuspended):
            raise
        status_params.invalid(exc.message)
    return status(user, post)


@route(bp, "/api/v1/statuses", methods=["GET"])
@oauth_optional("read:statuses")
def get_statuses():
    """Several statuses at once (``id[]``), in the order asked; unknown and hidden ones left out."""
    raw = request.args.getlist("id[]") or request.args.getlist("id")
    if len(raw) > lookup.MAX_IDS:
        status_params.invalid(f"at most {lookup.MAX_IDS} ids")
    viewer = current_user_or_none()
    return statuses(viewer, lookup.find_entries(viewer, raw))


@route(bp, "/api/v1/statuses/<status_id>", methods=["GET"])
@oauth_optional("read:statuses")
def get_status(status_id: str):
    viewer = current_user_or_none()
    entry = lookup.find_entry(viewer, status_id)
    if entry is None:
        mastodon_abort(404, NOT_FOUND)
    return status(viewer, entry)


@route(bp, "/api/v1/statuses/<status_id>", methods=["DELETE"])
@oauth_required("write:statuses")
def delete_status(status_id: str):
    """Delete one's own status; the answer is the status as it was with its source ``text`` (for
    Mastodon's delete-and-redraft). One's own reblog is a status too: deleting it undoes the repost."""
    user = current_mastodon_user()
    shared = lookup.find_own_reblog(user, status_id)
    if shared is not None:
        entity = status(user, shared)
        reactions.unrepost(user, shared.post.id)
        return {**entity, "text": ""}
    post = _found(lookup.find_own_post(user, status_id))
    entity = status(user, post)
    entity["text"] = post.body
    posts.delete_post(user, post.id)
    return entity


@route(bp, "/api/v1/statuses/<status_id>", methods=["PUT"])
@oauth_required("write:statuses")
def edit_status(status_id: str):
    """Edit one's own status's text and content warning (a parameter left out keeps its value). The
    images cannot be changed: ``media_ids`` must name the ones it has."""
    user = current_mastodon_user()
    post = _found(lookup.find_own_post(user, status_id))
    values = params()
    status_params.check_supported(values)
    wanted = status_params.media_ids(values)
    if wanted is not None and set(wanted) != lookup.media_ids_of(post):
        status_params.invalid("the images of a post cannot be changed")
    body = text_param(values, "status")
    summary = text_param(values, "spoiler_text") if "spoiler_text" in values else post.summary
    post = posts.edit_post(user, post.id, body if body is not None else post.body, summary)
    return status(user, post)


@route(bp, "/api/v1/statuses/<status_id>/source", methods=["GET"])
@oauth_required("read:statuses")
def status_source(status_id: str):
    """The StatusSource of one's own status: its text as written, for the edit form."""
    post = _found(lookup.find_own_post(current_mastodon_user(), status_id))
    return {"id": str(post.id), "text": post.body, "spoiler_text": post.summary or ""}


@route(bp, "/api/v1/statuses/<status_id>/history", methods=["GET"])
@oauth_optional("read:statuses")
def status_history(status_id: str):
    """The StatusEdit list: every version, oldest first, the current one last."""
    viewer = current_user_or_none()
    return status_edits.history(viewer, _found(lookup.find_post(viewer, status_id)))


@route(bp, "/api/v1/statuses/<status_id>/context", methods=["GET"])
@oauth_optional("read:statuses")
def status_context(status_id: str):
    """The Context: the statuses it answers (oldest first) and the replies under it (thread order)."""
    viewer = current_user_or_none()
    ancestors, descendants = threads.context(viewer, _found(lookup.find_post(viewer, status_id)))
    entities_ = statuses(viewer, [*ancestors, *descendants])
    return {"ancestors": entities_[:len(ancestors)], "descendants": entities_[len(ancestors):]}


# -- favourites, reblogs, bookmarks ----------------------------------------------------------------
def _react(action: Callable[[User, int], Post], status_id: str) -> dict[str, Any]:
    """Do ``action(user, post_id)`` to the status the caller may see; the status after it."""
    user = current_mastodon_user()
    post = _found(lookup.find_post(user, status_id))
    return status(user, action(user, post.id))


@route(bp, "/api/v1/statuses/<status_id>/favourite", methods=["POST"])
@oauth_required("write:favourites")
def favourite(status_id: str):
    return _react(reactions.like, status_id)


@route(bp, "/api/v1/statuses/<status_id>/unfavourite", methods=["POST"])
@oauth_required("write:favourites")
def unfavourite(status_id: str):
    return _react(reactions.unlike, status_id)


@route(bp, "/api/v1/statuses/<status_id>/bookmark", methods=["POST"])
@oauth_required("write:bookmarks")
def bookmark(status_id: str):
    return _react(reactions.bookmark, status_id)


@route(bp, "/api/v1/statuses/<status_id>/unbookmark", methods=["POST"])
@oauth_required("write:bookmarks")
def unbookmark(status_id: str):
    return _react(reactions.unbookmark, status_id)


@route(bp, "/api/v1/statuses/<status_id>/reblog", methods=["POST"])
@oauth_required("write:statuses")
def reblog(status_id: str):
    """Repost a status; the answer is the reblog: a status of its own wrapping the original."""
    user = current_mastodon_user()
    post = reactions.repost(user, _found(lookup.find_post(user, status_id)).id)
    return status(user, _found(lookup.own_repost(user, post)))


@route(bp, "/api/v1/statuses/<status_id>/unreblog", methods=["POST"])
@oauth_required("write:statuses")
def unreblog(status_id: str):
    """Take a repost back; the answer is the original status."""
    return _react(reactions.unrepost, status_id)


def _reactors(model: type[Like] | type[Announce], status_id: str):
    viewer = current_user_or_none()
    post = _found(lookup.find_post(viewer, status_id))
    rows = lookup.reactors_page(model, post, window(default=40, maximum=80))
    users: list[User] = [user for _row_id, user in rows]
    accounts = entities.accounts(users)
    first, last = (str(rows[0][0]), str(rows[-1][0])) if rows else (None, None)
    return list_response([accounts[user.id] for user in users], first_id=first, last_id=last)


@route(bp, "/api/v1/statuses/<status_id>/favourited_by", methods=["GET"])
@oauth_optional("read:statuses")
def favourited_by(status_id: str):
    """The accounts that favourited the status, newest first, paged by the favourites' ids (40 a page
    by default, 80 at most, as Mastodon)."""
    return _reactors(Like, status_id)


@route(bp, "/api/v1/statuses/<status_id>/reblogged_by", methods=["GET"])
@oauth_optional("read:statuses")
def reblogged_by(status_id: str):
    """The accounts that reblogged the status, newest first, paged by the reblogs' ids."""
    return _reactors(Announce, status_id)


# -- what this server does not do ------------------------------------------------------------------
def _not_available(status_id: str):
    """Pinning and muting a conversation do not exist here: 422 on a status the caller may see."""
    _found(lookup.find_post(current_mastodon_user(), status_id))
    mastodon_abort(422, NOT_AVAILABLE)


@route(bp, "/api/v1/statuses/<status_id>/pin", methods=["POST"])
@oauth_required("write:accounts")
def pin(status_id: str):
    return _not_available(status_id)


@route(bp, "/api/v1/statuses/<status_id>/unpin", methods=["POST"])
@oauth_required("write:accounts")
def unpin(status_id: str):
    return _not_available(status_id)


@route(bp, "/api/v1/statuses/<status_id>/mute", methods=["POST"])
@oauth_required("write:mutes")
def mute(status_id: str):
    return _not_available(status_id)


@route(bp, "/api/v1/statuses/<status_id>/unmute", methods=["POST"])
@oauth_required("write:mutes")
def unmute(status_id: str):
    return _not_available(status_id)
