"""Where a reader stopped in a timeline (Mastodon's markers): apps keep the position across devices."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

# The timelines a marker may name (Mastodon's two).
MARKER_TIMELINES = ("home", "notifications")
# An id as a client sends it: a status or notification id is at most 19 digits; room to spare.
MARKER_ID_MAX = 64


class Marker(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """``user`` last read ``timeline`` up to ``last_read_id``; ``version`` counts the saves (Mastodon's
    lock_version), so an app can tell that another device moved the marker."""

    __table_args__ = (sa.UniqueConstraint("user_id", "timeline", name="uq_marker_user_id_timeline"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    timeline: so.Mapped[str] = so.mapped_column(sa.String(16))
    last_read_id: so.Mapped[str] = so.mapped_column(sa.String(MARKER_ID_MAX))
    version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Marker {self.user_id} {self.timeline} {self.last_read_id}>"
