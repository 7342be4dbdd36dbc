"""Received activities handled by a job: each type has a handler, registered with ``@handles``.

A handler gets the stored activity's JSON, the verified remote actor (a ``user`` row), and the local
recipient if it came to a personal inbox. It does its work in the session and commits; raising
``Ignored`` says the activity was understood and has nothing to do here (kept as done).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from microblog import jobs
from microblog.extensions import db
from microblog.federation import actors
from microblog.models import ActivityState, InboxActivity, User
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], User, User | None], None]
HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 5


class Ignored(Exception):
    """The activity needs nothing from us (about something we do not have, say)."""


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for kind in types:
            HANDLERS[kind] = func
        return func
    return register


def is_supported(kind: str) -> bool:
    _load_handlers()
    return kind in HANDLERS or any(key.startswith(kind + ":") for key in HANDLERS)


def handler_key(activity: dict[str, Any]) -> str:
    """The handler an activity goes to: its type, and for an Undo the type of what it undoes
    (``Undo:Follow``, ``Undo:Like``...; ``Undo:*`` when the object is only named by its id)."""
    kind = str(activity.get("type"))
    if kind != "Undo":
        return kind
    inner = activity.get("object")
    inner_type = inner.get("type") if isinstance(inner, dict) else None
    return f"Undo:{inner_type}" if isinstance(inner_type, str) else "Undo:*"


def _load_handlers() -> None:
    """Import the modules whose handlers register themselves (kept here: one place lists them)."""
    from microblog.federation import handlers  # noqa: F401


def queue(activity_id: int) -> None:
    jobs.enqueue(process_activity, activity_id)


@jobs.task
def process_activity(activity_id: int) -> None:
    """Handle one stored activity, once: a row already done (or failed for good) is left alone."""
    _load_handlers()
    row = db.session.get(InboxActivity, activity_id)
    if row is None or row.state != ActivityState.PENDING:
        return
    activity = json.loads(row.payload)
    sender = actors.actor_by_uri(row.actor_uri)
    recipient = db.session.get(User, row.recipient_id) if row.recipient_id is not None else None
    handler = HANDLERS.get(handler_key(activity))
    try:
        if sender is None or handler is None:
            raise Ignored("unknown actor or type")
        handler(activity, sender, recipient)
        _finish(activity_id, ActivityState.DONE, None)
    except Ignored as exc:
        db.session.rollback()
        _finish(activity_id, ActivityState.DONE, str(exc)[:500])
    except Exception as exc:  # noqa: BLE001 - a remote server's data must never wedge the queue
        db.session.rollback()
        log.exception("inbox activity %s (%s) failed", activity_id, row.type)
        _fail(activity_id, exc)


def _finish(activity_id: int, state: ActivityState, note: str | None) -> None:
    db.session.execute(sa.update(InboxActivity).where(InboxActivity.id == activity_id)
                       .values(state=state, error=note, processed_at=utcnow()))
    db.session.commit()


def _fail(activity_id: int, exc: Exception) -> None:
    row = db.session.get(InboxActivity, activity_id)
    if row is None:
        return
    row.attempts += 1
    row.error = f"{type(exc).__name__}: {exc}"[:500]
    if row.attempts >= MAX_ATTEMPTS:
        row.state = ActivityState.FAILED
        row.processed_at = utcnow()
    db.session.commit()


@jobs.periodic
def retry_pending() -> None:
    """Activities a crashed or failed job left pending, handled again (a few at a time)."""
    ids = db.session.scalars(sa.select(InboxActivity.id).where(InboxActivity.state == ActivityState.PENDING,
                                                              InboxActivity.attempts > 0)
                             .order_by(InboxActivity.id).limit(50)).all()
    for activity_id in ids:
        process_activity(activity_id)
