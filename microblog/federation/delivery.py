"""Deliveries: an activity on its way to each remote inbox, one ``Delivery`` row per inbox (a server's
shared inbox where it has one), sent signed by a job and retried with backoff, like the mail outbox
(microblog/mail.py): nothing is lost when a peer is down.

- ``enqueue_activity`` writes the rows (distinct inboxes; not our own host, not blocked servers),
  commits, and queues a job per row: 10,000 followers on 100 servers with shared inboxes are ~100 rows.
- ``send_delivery`` (the job) claims its row with a conditional UPDATE (two workers never both send),
  POSTs it through ``safe_http`` and records the outcome on the row and on the server's ``Instance``:
  2xx sent; a 4xx (but 408/429) failed for good; anything else retried after 1 min, 5 min, 30 min,
  2 h, 6 h, then every 12 h, up to ``MAX_AGE``.
- A server failing for more than ``UNAVAILABLE_AFTER`` is marked unavailable for ``UNAVAILABLE_FOR``:
  its deliveries wait until then instead of each timing out; the next success clears it.
- ``retry_due_deliveries`` (periodic) hands out the rows that are due, and frees rows left in
  "sending" by a worker that died.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from microblog import jobs
from microblog.extensions import db
from microblog.federation import instances, keys, urls
from microblog.models import Delivery, DeliveryStatus, Instance, User, followers
from microblog.services import rows
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

# Seconds to wait before attempt 2, 3, ...; the last value repeats until MAX_AGE.
BACKOFF = (60, 300, 1800, 7200, 21600, 43200)
# A delivery not sent this long after it was written is given up on.
MAX_AGE = timedelta(days=3)
# A row in "sending" this long belonged to a worker that died; it is tried again.
STALE_SENDING = timedelta(minutes=15)
# A row the periodic sweep handed to a job is not handed out again for this long (the job's lease).
HANDOUT = timedelta(minutes=15)
# A server whose deliveries have failed for this long waits UNAVAILABLE_FOR before the next try.
UNAVAILABLE_AFTER = timedelta(days=2)
UNAVAILABLE_FOR = timedelta(days=1)
# Rows one sweep hands out.
SWEEP_LIMIT = 200
# Answers that are worth trying again later (timeouts, rate limits); other 4xx are final.
RETRYABLE_4XX = frozenset({408, 429})

QUIET = {"synchronize_session": False}


# -- writing ------------------------------------------------------------------------------------
def inboxes_for_followers(user: User) -> list[str]:
    """The distinct inboxes of ``user``'s remote followers, a server's shared inbox in place of its
    accounts' own: one query."""
    inbox = sa.func.coalesce(User.shared_inbox_url, User.inbox_url)
    query = (sa.select(inbox).distinct()
             .join(followers, followers.c.follower_id == User.id)
             .where(followers.c.followed_id == user.id, User.domain.is_not(None), inbox.is_not(None))
             .order_by(inbox))
    return list(db.session.scalars(query))


def enqueue_activity(activity: dict[str, Any], sender: User, inboxes: Iterable[str]) -> list[int]:
    """Write a delivery of ``activity`` (signed as ``sender``) to each distinct inbox, leaving out our
    own host and blocked servers; commit, then queue a job per delivery. Returns the rows' ids."""
    local = urls.local_domain()
    wanted: dict[str, str] = {}
    for inbox in inboxes:
        if inbox and inbox not in wanted:
            domain = instances.domain_of(inbox)
            if domain and domain != local:
                wanted[inbox] = domain
    blocked = {domain for domain in set(wanted.values()) if instances.is_blocked(domain)}
    targets = [(inbox, domain) for inbox, domain in wanted.items() if domain not in blocked]
    if not targets:
        return []
    body = json.dumps(activity, separators=(",", ":"), ensure_ascii=False)
    now = utcnow()
    ids = list(db.session.scalars(
        sa.insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True),
        [{"inbox_url": inbox, "domain": domain, "sender_id": sender.id, "activity": body,
          "status": DeliveryStatus.PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now}
         for inbox, domain in targets]))
    db.session.commit()
    for delivery_id in ids:
        jobs.enqueue(send_delivery, delivery_id)
    return ids


# -- sending ------------------------------------------------------------------------------------
def _claim(delivery_id: int) -> bool:
    """Mark the row as being sent unless another worker has it, or it is not (nearly) due: at most one
    sender. A row handed out by the sweep is due up to HANDOUT ahead (its lease)."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id,
               sa.or_(sa.and_(Delivery.status == DeliveryStatus.PENDING,
                              Delivery.next_attempt_at <= now + HANDOUT),
                      sa.and_(Delivery.status == DeliveryStatus.SENDING,
                              Delivery.next_attempt_at <= now - STALE_SENDING)))
        .values(status=DeliveryStatus.SENDING, next_attempt_at=now),
        execution_options=QUIET)
    db.session.commit()
    return getattr(result, "rowcount", 0) == 1


def _instance(domain: str) -> Instance:
    """The ``Instance`` row of ``domain``, made if there is none (two workers may race to it)."""
    found = db.session.scalar(sa.select(Instance).where(Instance.domain == domain))
    if found is None:
        rows.insert_unless_present(Instance.__table__, domain=domain, created_at=utcnow(),
                                   reject_media=False)
        found = db.session.scalar(sa.select(Instance).where(Instance.domain == domain))
    assert found is not None
    return found


@jobs.task
def send_delivery(delivery_id: int) -> str:
    """Send one delivery if it is due and nobody else is sending it; record the outcome and schedule
    the next attempt. Returns its status ("skipped": not ours to send now)."""
    if not _claim(delivery_id):
        return "skipped"
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        return "skipped"
    now = utcnow()
    if instances.is_blocked(delivery.domain):
        return _finish(delivery, DeliveryStatus.FAILED, "the server is blocked")
    instance = db.session.scalar(sa.select(Instance).where(Instance.domain == delivery.domain))
    if instance is not None and instance.unavailable_until is not None and instance.unavailable_until > now:
        if now - delivery.created_at > MAX_AGE:
            return _finish(delivery, DeliveryStatus.FAILED, "the server has been unavailable too long")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = instance.unavailable_until
        db.session.commit()
        return delivery.status
    sender = db.session.get(User, delivery.sender_id)
    if sender is None or sender.domain is not None:
        return _finish(delivery, DeliveryStatus.FAILED, "no local sender")
    status, error = _post(delivery, sender)
    delivery.attempts += 1
    if status is not None and 200 <= status < 300:
        _succeeded(delivery.domain)
        delivery.sent_at = utcnow()
        return _finish(delivery, DeliveryStatus.SENT, None)
    if error is None:
        error = f"HTTP {status}"
    final = status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX
    if final:
        if error.startswith("HTTP"):
            _answered(delivery.domain)  # it refused this one, but it is up
        log.info("delivery %s to %s refused for good: %s", delivery.id, delivery.inbox_url, error)
        return _finish(delivery, DeliveryStatus.FAILED, error)
    _failed(delivery.domain)
    return _retry(delivery, error)


def _post(delivery: Delivery, sender: User) -> tuple[int | None, str | None]:
    """POST the activity, signed. (status, None) for an answer; (None or a final 4xx, error) for a
    failure: a Gone or unsafe address is final (410 / 400), a network error is not."""
    from microblog.federation import safe_http  # the one module that does network IO

    keys.ensure_keys(sender)
    try:
        return safe_http.post_activity(delivery.inbox_url, delivery.activity.encode(), sender), None
    except safe_http.Gone as exc:
        return 410, f"gone: {exc}"[:500]
    except safe_http.UnsafeAddress as exc:
        return 400, f"unsafe address: {exc}"[:500]
    except Exception as exc:  # noqa: BLE001 - FetchError, timeouts, resets: all retried
        return None, f"{type(exc).__name__}: {exc}"[:500]


def _finish(delivery: Delivery, status: DeliveryStatus, error: str | None) -> str:
    delivery.status = status
    delivery.last_error = error
    db.session.commit()
    return delivery.status


def _retry(delivery: Delivery, error: str) -> str:
    """Schedule the next attempt after the backoff, or give up once the delivery is too old."""
    delivery.last_error = error
    delay = timedelta(seconds=BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)])
    now = utcnow()
    if now + delay - delivery.created_at > MAX_AGE:
        delivery.status = DeliveryStatus.FAILED
        log.warning("giving up on delivery %s to %s after %d attempts: %s", delivery.id,
                    delivery.inbox_url, delivery.attempts, error)
    else:
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now + delay
        instance = db.session.scalar(sa.select(Instance).where(Instance.domain == delivery.domain))
        if instance is not None and instance.unavailable_until is not None \
                and instance.unavailable_until > delivery.next_attempt_at:
            delivery.next_attempt_at = instance.unavailable_until
        log.info("delivery %s to %s failed (attempt %d), next at %s: %s", delivery.id, delivery.inbox_url,
                 delivery.attempts, delivery.next_attempt_at.isoformat(), error)
    db.session.commit()
    return delivery.status


def _succeeded(domain: str) -> None:
    """The server took a delivery: it is available again, and its run of failures is over."""
    _answered(domain).last_success_at = utcnow()


def _answered(domain: str) -> Instance:
    """The server answered (maybe with a refusal): it is up, its run of failures is over."""
    instance = _instance(domain)
    instance.failing_since = None
    instance.unavailable_until = None
    return instance


def _failed(domain: str) -> None:
    """Note a failure of ``domain``: the start of a run of failures, and once that run is older than
    UNAVAILABLE_AFTER, the server's unavailability (its waiting deliveries move to its end)."""
    now = utcnow()
    instance = _instance(domain)
    if instance.failing_since is None:
        instance.failing_since = now
    elif now - instance.failing_since > UNAVAILABLE_AFTER and (
            instance.unavailable_until is None or instance.unavailable_until <= now):
        until = now + UNAVAILABLE_FOR
        instance.unavailable_until = until
        log.warning("%s has failed since %s: deliveries to it wait until %s", domain,
                    instance.failing_since.isoformat(), until.isoformat())
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.domain == domain, Delivery.status == DeliveryStatus.PENDING,
                   Delivery.next_attempt_at < until)
            .values(next_attempt_at=until), execution_options=QUIET)


# -- the sweep ----------------------------------------------------------------------------------
@jobs.periodic
def retry_due_deliveries(limit: int = SWEEP_LIMIT) -> int:
    """Free the rows a dead worker left in "sending", and hand each due row (retries, and any whose
    job was lost) to a job, leased for HANDOUT so the next sweep does not hand it out again. Returns
    how many were handed out."""
    now = utcnow()
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.next_attempt_at <= now - STALE_SENDING)
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now), execution_options=QUIET)
    due = list(db.session.scalars(
        sa.select(Delivery.id)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))
    if due:
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(due), Delivery.status == DeliveryStatus.PENDING,
                   Delivery.next_attempt_at <= now)
            .values(next_attempt_at=now + HANDOUT), execution_options=QUIET)
    db.session.commit()
    for delivery_id in due:
        jobs.enqueue(send_delivery, delivery_id)
    return len(due)


def pending_for(sender_id: int, since: datetime) -> bool:
    """Whether deliveries of ``sender_id`` written after ``since`` are still on their way."""
    return bool(db.session.scalar(sa.select(sa.exists().where(
        Delivery.sender_id == sender_id, Delivery.created_at > since,
        Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])))))


def delivery_counts() -> dict[str, int]:
    """How many deliveries are in each status (for admins and the bench)."""
    found = db.session.execute(sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status)).all()
    return {status: count for status, count in found}
