"""Mastodon's follow, unfollow, block, unblock, mute and unmute (docs: methods/accounts): each calls the
service the web's buttons call and answers the Relationship after it.

Answered as Mastodon answers (its FollowService, BlockService, MuteService): following across a block
is 403 ``This action is not allowed``, following yourself 404 ``Record not found``; blocking or muting
yourself does nothing and answers the (empty) Relationship. Doing twice what is done is harmless (200).
Follows are held to the web's allowance (RATELIMIT_FOLLOWS per account; 429 past it).

What the site cannot do is refused with 422 rather than silently ignored: a follow with ``reblogs=false``
(reposts always show), ``notify=true`` (no post notifications) or ``languages[]`` (no per-follow
language filter); a mute with ``duration`` above 0 (mutes do not expire) or ``notifications=false`` (a
mute always silences notifications too).
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app
from limits import parse

from microblog.extensions import limiter
from microblog.mastodon.account_support import (
    NOT_FOUND,
    account_or_404,
    answer_domain_errors,
    body_params,
    flag,
)
from microblog.mastodon.auth import current_mastodon_user, mastodon_abort, oauth_required
from microblog.mastodon.paths import route
from microblog.mastodon.relationship_entity import relationship
from microblog.models import User
from microblog.services import blocks, follows, mutes

log = logging.getLogger(__name__)

bp = Blueprint("mastodon_account_actions", __name__)
answer_domain_errors(bp)


def _count_follow(user: User) -> None:
    """Hold follows to RATELIMIT_FOLLOWS per account, as the web's follow button is (429 past it): the
    Mastodon blueprints are exempt from Flask-Limiter's decorators, so the allowance is counted here,
    in the limiter's storage."""
    if not limiter.enabled or not current_app.config["RATELIMIT_ENABLED"]:
        return
    try:
        allowed = limiter.limiter.hit(parse(current_app.config["RATELIMIT_FOLLOWS"]), "mastodon-follows",
                                      f"user:{user.id}")
    except Exception:  # noqa: BLE001  # storage down: follow unlimited, as the rest of the API does
        log.exception("rate limit storage failed; the follow is not counted")
        return
    if not allowed:
        mastodon_abort(429, "Too many requests")


def _unsupported(message: str) -> None:
    mastodon_abort(422, f"Validation failed: {message}")


def _seconds(raw: object) -> float | None:
    """A duration in seconds (missing or empty: 0); None for one that is no number."""
    if raw is None or raw == "":
        return 0
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@route(bp, "/api/v1/accounts/<account_id>/follow", methods=["POST"])
@oauth_required("write:follows")
def follow_account(account_id: str):
    """Follow the account (``reblogs`` true and ``notify`` false are all this site offers)."""
    target, values = account_or_404(account_id), body_params()
    if not flag(values.get("reblogs"), default=True):
        _unsupported("Hiding a followed account's reposts is not supported on this site")
    if flag(values.get("notify")):
        _unsupported("Notifications of a followed account's posts are not supported on this site")
    if values.get("languages") not in (None, "", []):
        _unsupported("Filtering a followed account's posts by language is not supported on this site")
    user = current_mastodon_user()
    if user.id == target.id:
        mastodon_abort(404, NOT_FOUND)
    _count_follow(user)
    follows.follow(user, target)
    return relationship(user, target)


@route(bp, "/api/v1/accounts/<account_id>/unfollow", methods=["POST"])
@oauth_required("write:follows")
def unfollow_account(account_id: str):
    """Stop following the account."""
    target, user = account_or_404(account_id), current_mastodon_user()
    follows.unfollow(user, target)
    return relationship(user, target)


@route(bp, "/api/v1/accounts/<account_id>/block", methods=["POST"])
@oauth_required("write:blocks")
def block_account(account_id: str):
    """Block the account: follows between you end both ways."""
    target, user = account_or_404(account_id), current_mastodon_user()
    if user.id != target.id:
        blocks.block_user(user, target)
    return relationship(user, target)


@route(bp, "/api/v1/accounts/<account_id>/unblock", methods=["POST"])
@oauth_required("write:blocks")
def unblock_account(account_id: str):
    """Lift a block (the follows it ended stay ended)."""
    target, user = account_or_404(account_id), current_mastodon_user()
    blocks.unblock_user(user, target)
    return relationship(user, target)


@route(bp, "/api/v1/accounts/<account_id>/mute", methods=["POST"])
@oauth_required("write:mutes")
def mute_account(account_id: str):
    """Mute the account, its notifications included, for good (see the module's docstring)."""
    target, values = account_or_404(account_id), body_params()
    if not flag(values.get("notifications"), default=True):
        _unsupported("A mute always hides notifications too on this site")
    if _seconds(values.get("duration")) != 0:
        _unsupported("Mutes do not expire on this site (duration must be 0)")
    user = current_mastodon_user()
    if user.id != target.id:
        mutes.mute(user, target)
    return relationship(user, target)


@route(bp, "/api/v1/accounts/<account_id>/unmute", methods=["POST"])
@oauth_required("write:mutes")
def unmute_account(account_id: str):
    """Lift a mute."""
    target, user = account_or_404(account_id), current_mastodon_user()
    mutes.unmute(user, target)
    return relationship(user, target)
