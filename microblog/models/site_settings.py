"""Settings of the whole site that administrators change from the admin area (not the environment)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

SITE_SETTING_VALUE_MAX = 255


class SiteSetting(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """One named value. A name with no row has its default (services/site_settings.py)."""

    __tablename__ = "site_setting"

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.String(SITE_SETTING_VALUE_MAX))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<SiteSetting {self.key}={self.value!r}>"
