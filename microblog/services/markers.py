"""Timeline markers (Mastodon's ``/api/v1/markers``): where a user stopped reading home and
notifications, saved by one app and read by another."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from microblog.extensions import db
from microblog.models import MARKER_TIMELINES, Marker, User
from microblog.timeutil import utcnow


def get_markers(user: User, timelines: Iterable[str]) -> list[Marker]:
    """``user``'s markers of these timelines (unknown names ignored); one statement."""
    wanted = sorted(set(timelines) & set(MARKER_TIMELINES))
    if not wanted:
        return []
    query = sa.select(Marker).where(Marker.user_id == user.id, Marker.timeline.in_(wanted))
    return list(db.session.scalars(query.order_by(Marker.timeline)))


def _bump(user: User, timeline: str, last_read_id: str) -> bool:
    """Move an existing marker, counting the save; False when there is none yet."""
    moved = db.session.execute(
        sa.update(Marker).where(Marker.user_id == user.id, Marker.timeline == timeline)
        .values(last_read_id=last_read_id, version=Marker.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    return cast(sa.CursorResult, moved).rowcount > 0


def save_markers(user: User, positions: Mapping[str, str]) -> list[Marker]:
    """Set ``user``'s markers (timeline name -> last read id) and return them.

    Two apps saving at once must not fail: the first save inserts the row; one that loses the race to
    insert (the unique (user_id, timeline) constraint) moves the row the other one made instead.
    """
    for timeline, last_read_id in positions.items():
        if timeline not in MARKER_TIMELINES or _bump(user, timeline, last_read_id):
            continue
        try:
            with db.session.begin_nested():
                db.session.add(Marker(user_id=user.id, timeline=timeline, last_read_id=last_read_id,
                                      updated_at=utcnow()))
        except IntegrityError:
            _bump(user, timeline, last_read_id)
    db.session.commit()
    return get_markers(user, positions)
