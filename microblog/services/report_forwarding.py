"""Reports about remote accounts and posts, sent on to their server when the reporter agrees: an
ActivityPub ``Flag`` naming the account (and the post), without the reporter's name.

The Flag is signed as the site's first administrator: this site has no instance actor yet (Mastodon
sends Flags as its instance actor; ours is future work), and signing as the reporter would not be
anonymous. It is delivered by ``federation/delivery.py`` (``enqueue_activity``), with retries.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.exceptions import DomainError, Unavailable, ValidationError
from microblog.extensions import db
from microblog.federation import instances, keys, urls
from microblog.models import ROLE_ADMIN, USERNAME_MAX, Post, Report, User
from microblog.services import accounts, audit, reports

log = logging.getLogger(__name__)

CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]


@dataclass(frozen=True)
class Filed:
    """A report saved, and why it could not be forwarded when that was asked (None: forwarded, or not
    asked)."""

    report: Report
    forward_error: str | None = None


def reportable_user(username: str) -> User | None:
    """The account a report page names: a local one (``accounts.get_user_by_username``), or a remote
    one by its full ``name@domain`` (ignoring case)."""
    local = accounts.get_user_by_username(username)
    if local is not None or "@" not in username or len(username) > USERNAME_MAX:
        return local
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == username.lower(),
                                                   User.domain.is_not(None)))


def forward_domain(user: User | None) -> str | None:
    """The server a report about ``user`` (or one of their posts) could be forwarded to: theirs, when
    they are a remote account of a server that is not blocked; else None."""
    if user is None or user.domain is None or instances.is_blocked(user.domain):
        return None
    return user.domain


def report_post(reporter: User, post: Post, reason: str, forward: bool = False) -> Filed:
    """``reports.report_post``, then the Flag to the post's server when ``forward`` (and it is remote).

    :raises ValidationError, ConflictError: as ``reports.report_post`` (nothing saved, nothing sent).
    """
    report = reports.report_post(reporter, post, reason)
    return _forwarded(reporter, report, forward)


def report_user(reporter: User, user: User, reason: str, forward: bool = False) -> Filed:
    """``reports.report_user``, then the Flag to the account's server when ``forward`` (and it is remote).

    :raises ValidationError, ConflictError: as ``reports.report_user`` (nothing saved, nothing sent).
    """
    report = reports.report_user(reporter, user, reason)
    return _forwarded(reporter, report, forward)


def _forwarded(reporter: User, report: Report, forward: bool) -> Filed:
    if not forward:
        return Filed(report)
    try:
        forward_report(reporter, report)
    except DomainError as exc:
        db.session.rollback()
        log.warning("report %s not forwarded: %s", report.id, exc.message)
        return Filed(report, exc.message)
    return Filed(report)


def forward_report(reporter: User, report: Report) -> str:
    """Deliver a Flag about the report's remote account (and post) to its server's inbox, signed as the
    site's first administrator, and log it. Returns the domain it went to.

    :raises ValidationError: the report is about a local account, a blocked server's, or one with no inbox.
    :raises Unavailable: no administrator to sign it, or delivery is not available.
    """
    target = db.session.get(User, report.user_id) if report.user_id is not None else None
    domain = forward_domain(target)
    if target is None or domain is None or not target.actor_uri:
        raise ValidationError(_("Only reports about accounts of other servers can be sent to them."))
    inbox = target.shared_inbox_url or target.inbox_url
    if not inbox:
        raise ValidationError(_("%(domain)s has no inbox to send the report to.", domain=domain))
    signer = site_signer()
    if signer is None:
        raise Unavailable(_("The report could not be sent: this site has no administrator to sign it."))
    signer = keys.ensure_keys(signer)  # commits a new key pair at once: before the audit entry
    objects = [target.actor_uri]
    post = db.session.get(Post, report.post_id) if report.post_id is not None else None
    if post is not None and post.uri:
        objects.append(post.uri)
    activity = {
        "@context": CONTEXT,
        "id": urls.activity_uri("flag", report.id),
        "type": "Flag",
        "actor": urls.actor_uri(signer.username),
        "content": report.reason,
        "object": objects,
    }
    audit.record(reporter, audit.REPORT_FORWARD, None, target_type="report", target_id=report.id,
                 label=report.target_label, details=domain)
    _enqueue(activity, signer, [inbox])
    db.session.commit()
    return domain


def site_signer() -> User | None:
    """The account that signs what the site sends in its own name: the first (oldest) local
    administrator who is neither suspended nor deactivated."""
    return db.session.scalar(
        sa.select(User).where(User.role == ROLE_ADMIN, User.domain.is_(None), User.suspended_at.is_(None),
                              User.deactivated_at.is_(None)).order_by(User.id).limit(1))


def _enqueue(activity: dict, sender: User, inboxes: list[str]) -> None:
    """Hand the activity to the delivery outbox (federation/delivery.py, written separately: looked
    up when called, so that this module works, and says so, without it)."""
    try:
        delivery = importlib.import_module("microblog.federation.delivery")
    except ModuleNotFoundError as exc:
        if exc.name != "microblog.federation.delivery":
            raise
        raise Unavailable(_("Reports cannot be sent to other servers yet.")) from None
    delivery.enqueue_activity(activity, sender, inboxes)
