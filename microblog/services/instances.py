"""Instance moderation: the moderators block a whole domain (its accounts and their posts are deleted
here, as Mastodon's "suspend" does, and nothing more is accepted from it or sent to it), or only reject
its media; and the list of the servers this site knows, with how delivering to them goes.

Every change is checked with ``roles.require`` and written to the audit log in its own transaction.
Reading whether a domain is blocked is ``federation/instances.py`` (the inbox and the handlers ask it).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from microblog import search
from microblog.exceptions import ConflictError, ValidationError
from microblog.extensions import db
from microblog.federation import instances as federation_instances
from microblog.federation import urls
from microblog.models import (
    DOMAIN_MAX,
    REPORT_OPEN,
    REPORT_RESOLVED,
    ActivityState,
    Announce,
    Delivery,
    DeliveryStatus,
    InboxActivity,
    Instance,
    Like,
    Media,
    Permission,
    Post,
    Report,
    User,
    followers,
)
from microblog.paging import Page, paginate
from microblog.services import audit, counters, media_files, reports, roles
from microblog.timeutil import utcnow

# Who may act on other servers: the moderators who may suspend accounts (a domain block suspends all
# of a server's accounts at once).
PERMISSION = Permission.SUSPEND_USERS
BLOCKED_ERROR = "domain blocked"
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_QUIET = {"synchronize_session": False}


# -- domains ------------------------------------------------------------------------------------
def normalize_domain(raw: str | None, field: str = "domain") -> str:
    """``raw`` as a domain: lower-case, internationalized names in their ASCII (punycode) form, a port
    kept; a URL, ``user@host`` or a path is cut down to its host.

    :raises ValidationError: empty, or not a host name (or IP address) at all.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Please enter a domain."), field=field)
    if "://" in text:
        text = urlsplit(text).netloc
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1].rstrip(".")
    host, port = text, ""
    if host.count(":") == 1:
        host, port = host.split(":")
        if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValidationError(_("%(domain)s is not a valid domain.", domain=raw), field=field)
        port = f":{int(port)}"
    try:
        host = host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(_("%(domain)s is not a valid domain.", domain=raw), field=field) from None
    if not _is_host(host) or len(host) + len(port) > DOMAIN_MAX:
        raise ValidationError(_("%(domain)s is not a valid domain.", domain=raw), field=field)
    return host + port


def _is_host(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return 0 < len(host) <= 253 and all(_LABEL.match(label) for label in labels) \
        and not labels[-1].isdigit()


def _under(column: Any, domain: str) -> sa.ColumnElement[bool]:
    """Rows of ``domain`` or of a domain under it (with any port), by their host column. A normalized
    domain has no LIKE wildcards (only letters, digits, dots, dashes and a port)."""
    return sa.or_(column == domain, column.like(f"%.{domain}"),
                  *([column.like(f"{domain}:%"), column.like(f"%.{domain}:%")] if ":" not in domain else []))


def _instance(domain: str) -> Instance | None:
    return db.session.scalar(sa.select(Instance).where(Instance.domain == domain))


def _instance_for_change(domain: str) -> Instance:
    instance = _instance(domain)
    if instance is None:
        instance = Instance(domain=domain)
        db.session.add(instance)
        db.session.flush()
    return instance


def _record(moderator: User, action: str, instance: Instance, reason: str | None = None,
            details: str | None = None) -> None:
    audit.record(moderator, action, None, target_type="instance", target_id=instance.id,
                 label=instance.domain, reason=reason, details=details)


# -- blocks -------------------------------------------------------------------------------------
def block_domain(moderator: User, domain: str, reason: str,
                 reject_media_only: bool = False) -> Instance | None:
    """Block ``domain`` and every domain under it: its accounts are deleted with their posts, likes,
    reposts and follows (the counts of the local accounts and posts they touched stay exact), pending
    deliveries to it fail, activities from it waiting to be processed are dropped, and from now on its
    inbox POSTs are refused. With ``reject_media_only`` nothing is blocked: its posts only arrive
    without their images.

    :raises PermissionDenied: ``moderator`` may not suspend accounts.
    :raises ValidationError: a malformed domain, this site's own, or no reason.
    :raises ConflictError: it is blocked already.
    """
    roles.require(moderator, PERMISSION)
    domain = normalize_domain(domain)
    if domain == urls.local_domain() or urls.local_domain().endswith("." + domain):
        raise ValidationError(_("This site cannot block its own domain."), field="domain")
    cleaned = audit.clean_reason(reason)
    if reject_media_only:
        return _set_reject_media(moderator, domain, True, cleaned)
    instance = _instance(domain)
    if instance is not None and instance.blocked_at is not None:
        raise ConflictError(_("%(domain)s is blocked already.", domain=domain))
    instance = _instance_for_change(domain)
    instance.blocked_at = utcnow()
    instance.block_reason = cleaned
    accounts, posts = _delete_accounts(moderator, domain)
    cancelled = db.session.execute(
        sa.update(Delivery).where(_under(Delivery.domain, domain),
                                  Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, last_error=BLOCKED_ERROR), execution_options=_QUIET)
    deliveries = getattr(cancelled, "rowcount", 0)
    _drop_received(domain)
    _record(moderator, audit.INSTANCE_BLOCK, instance, cleaned,
            details=f"{len(accounts)} accounts, {len(posts)} posts, {deliveries} deliveries cancelled")
    db.session.commit()
    media_files.queue_deletions()
    if posts:
        search.queue_posts(*posts)
    if accounts:
        search.queue_users(*accounts)
    return instance


def _delete_accounts(moderator: User, domain: str) -> tuple[list[int], list[int]]:
    """Delete the remote accounts of ``domain`` (and below) with everything of theirs, in the caller's
    transaction; the ids of the accounts and posts deleted. The statements select the accounts with a
    subquery, not a list of ids: a big server's thousands of accounts stay within the database's limits."""
    theirs = sa.select(User.id).where(User.domain.is_not(None), _under(User.domain, domain))
    ids = list(db.session.scalars(theirs))
    if not ids:
        return [], []
    post_ids = list(db.session.scalars(sa.select(Post.id).where(Post.user_id.in_(theirs))))
    their_follows = sa.or_(followers.c.follower_id.in_(theirs), followers.c.followed_id.in_(theirs))
    others = {other for pair in db.session.execute(
        sa.select(followers.c.follower_id, followers.c.followed_id).where(their_follows)) for other in pair}
    others -= set(ids)
    about_them = db.session.scalars(sa.select(Report).where(Report.status == REPORT_OPEN,
                                                            Report.user_id.in_(theirs)))
    reports.close(moderator, about_them, REPORT_RESOLVED)
    db.session.flush()  # the reports' and notifications' rows, before the bulk statements below
    uploads = db.session.scalars(sa.select(Media).where(sa.or_(
        Media.user_id.in_(theirs), Media.post_id.in_(sa.select(Post.id).where(Post.user_id.in_(theirs))))))
    media_files.discard_keys(key for media in uploads for key in media.keys())
    _lower_counts_of_others(theirs)
    db.session.execute(sa.delete(followers).where(their_follows))
    db.session.execute(sa.delete(Like).where(Like.user_id.in_(theirs)), execution_options=_QUIET)
    db.session.execute(sa.delete(Announce).where(Announce.user_id.in_(theirs)), execution_options=_QUIET)
    db.session.execute(sa.delete(Post).where(Post.user_id.in_(theirs)), execution_options=_QUIET)
    # The rest of theirs (messages, notifications, mentions, follow requests...) goes with the rows
    # by the foreign keys' ON DELETE CASCADE.
    db.session.execute(sa.delete(User).where(User.id.in_(theirs)), execution_options=_QUIET)
    counters.recount(others)
    db.session.expire_all()
    return ids, post_ids


def _lower_counts_of_others(theirs: sa.Select) -> None:
    """Before the accounts ``theirs`` selects lose their rows: the other posts they answered, liked or
    reposted count those replies, likes and reposts no more (one like and repost per person and post)."""
    count = sa.func.count()
    reply = so.aliased(Post)
    replies = sa.select(count).select_from(reply).where(reply.in_reply_to_id == Post.id,
                                                        reply.user_id.in_(theirs)).scalar_subquery()
    answered = sa.select(reply.in_reply_to_id).where(reply.user_id.in_(theirs))
    db.session.execute(
        sa.update(Post).where(Post.id.in_(answered), Post.user_id.not_in(theirs))
        .values(reply_count=sa.case((Post.reply_count >= replies, Post.reply_count - replies), else_=0)),
        execution_options=_QUIET)
    for model, column in ((Like, Post.like_count), (Announce, Post.repost_count)):
        left = sa.select(count).select_from(model).where(model.post_id == Post.id,
                                                         model.user_id.not_in(theirs)).scalar_subquery()
        reacted = sa.select(model.post_id).where(model.user_id.in_(theirs))
        db.session.execute(sa.update(Post).where(Post.id.in_(reacted), Post.user_id.not_in(theirs))
                           .values({column: left}), execution_options=_QUIET)


def _drop_received(domain: str) -> None:
    """Activities from ``domain`` received but not yet processed are given up on."""
    pending = list(db.session.execute(sa.select(InboxActivity.id, InboxActivity.actor_uri)
                                      .where(InboxActivity.state == ActivityState.PENDING)))
    ids = [row.id for row in pending if _host_under(federation_instances.domain_of(row.actor_uri), domain)]
    if ids:
        db.session.execute(sa.update(InboxActivity).where(InboxActivity.id.in_(ids))
                           .values(state=ActivityState.FAILED, error=BLOCKED_ERROR), execution_options=_QUIET)


def _host_under(host: str, domain: str) -> bool:
    bare = host if ":" in domain else host.split(":", 1)[0]
    return bare == domain or bare.endswith("." + domain)


def unblock_domain(moderator: User, domain: str) -> Instance:
    """Lift the block of ``domain``: its activities are accepted again (the accounts deleted by the
    block come back only as their server sends or is asked for them).

    :raises PermissionDenied: ``moderator`` may not suspend accounts.
    :raises ValidationError: a malformed domain, or one that is not blocked (itself).
    """
    roles.require(moderator, PERMISSION)
    domain = normalize_domain(domain)
    instance = _instance(domain)
    if instance is None or instance.blocked_at is None:
        raise ValidationError(_("%(domain)s is not blocked.", domain=domain), field="domain")
    previous = instance.block_reason
    instance.blocked_at = None
    instance.block_reason = None
    _record(moderator, audit.INSTANCE_UNBLOCK, instance,
            details=f"blocked for: {previous}"[:255] if previous else None)
    db.session.commit()
    return instance


def set_reject_media(moderator: User, domain: str, on: bool, reason: str | None = None) -> Instance | None:
    """Reject (``on``) or accept again the images of posts from ``domain``. Setting what is already set
    changes nothing and logs nothing.

    :raises PermissionDenied: ``moderator`` may not suspend accounts.
    :raises ValidationError: a malformed domain.
    """
    roles.require(moderator, PERMISSION)
    domain = normalize_domain(domain)
    return _set_reject_media(moderator, domain, on, audit.clean_reason(reason, required=False))


def _set_reject_media(moderator: User, domain: str, on: bool, reason: str | None) -> Instance | None:
    instance = _instance(domain) if not on else _instance_for_change(domain)
    if instance is None or instance.reject_media == on:
        return instance
    instance.reject_media = on
    _record(moderator, audit.INSTANCE_REJECT_MEDIA if on else audit.INSTANCE_ACCEPT_MEDIA, instance, reason)
    db.session.commit()
    return instance


# -- the list -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceSummary:
    """What the instances page shows about one domain."""

    domain: str
    accounts: int
    blocked: bool  # this domain or one above it is blocked
    blocked_directly: bool  # this very domain is (it can be unblocked here)
    block_reason: str | None
    reject_media: bool
    failing_since: datetime | None
    unavailable_until: datetime | None
    last_success_at: datetime | None
    pending_deliveries: int
    failed_deliveries: int


def domains_select(query: str | None = None) -> sa.Select:
    """The domains this site knows, A to Z: those with an instance row (blocks, delivery state) and
    those of remote accounts; containing ``query`` when given."""
    known = sa.union(sa.select(Instance.domain.label("domain")),
                     sa.select(User.domain.label("domain")).where(User.domain.is_not(None))).subquery()
    statement = sa.select(known.c.domain)
    needle = _search_text(query)
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(known.c.domain.like(f"%{escaped}%", escape="\\"))
    return statement.order_by(known.c.domain)


def _search_text(query: str | None) -> str:
    text = (query or "").strip().lower()
    try:
        return text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        return text


def list_instances(query: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    """One page of known domains (``domains_select``) as ``InstanceSummary`` items: accounts, blocks,
    media rejection and delivery state.

    :raises paging.PageNotFound: a page past the end.
    """
    found = paginate(domains_select(query), page, per_page)
    return replace(found, items=summaries(list(found.items)))


def summaries(domains: list[str]) -> list[InstanceSummary]:
    """The ``InstanceSummary`` of each of these domains, in their order (a few grouped queries)."""
    if not domains:
        return []
    known = db.session.scalars(sa.select(Instance).where(Instance.domain.in_(domains)))
    rows = {row.domain: row for row in known}
    accounts = dict(db.session.execute(sa.select(User.domain, sa.func.count()).where(User.domain.in_(domains))
                                       .group_by(User.domain)).tuples().all())
    deliveries: dict[tuple[str, str], int] = {
        (domain, status): count for domain, status, count in db.session.execute(
            sa.select(Delivery.domain, Delivery.status, sa.func.count()).where(Delivery.domain.in_(domains))
            .group_by(Delivery.domain, Delivery.status)).tuples()}
    blocked = set(db.session.scalars(sa.select(Instance.domain).where(Instance.blocked_at.is_not(None))))
    result = []
    for domain in domains:
        row = rows.get(domain)
        result.append(InstanceSummary(
            domain=domain, accounts=accounts.get(domain, 0),
            blocked=any(_host_under(domain, other) for other in blocked),
            blocked_directly=domain in blocked, block_reason=row.block_reason if row else None,
            reject_media=bool(row and row.reject_media),
            failing_since=row.failing_since if row else None,
            unavailable_until=row.unavailable_until if row else None,
            last_success_at=row.last_success_at if row else None,
            pending_deliveries=deliveries.get((domain, DeliveryStatus.PENDING), 0),
            failed_deliveries=deliveries.get((domain, DeliveryStatus.FAILED), 0),
        ))
    return result
