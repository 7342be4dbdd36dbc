"""Remote actors: found by their key, fetched (signed) and stored as ``user`` rows with an origin.

INTEGRATION NOTE: the lookups in the database are here now; fetching and refreshing (``refresh=True``)
are added by the network work (safe_http).
"""

from __future__ import annotations

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import User


def actor_for_key(key_id: str, *, refresh: bool = False) -> User | None:
    """The remote account that owns the key ``key_id``: stored, or fetched from its server (``refresh``:
    fetched again even when stored, after a signature failed to verify with the stored key: the
    actor may have a new key). None: no such actor, or its server cannot be reached."""
    return db.session.scalar(sa.select(User).where(User.key_id == key_id, User.domain.is_not(None)))


def actor_by_uri(uri: str) -> User | None:
    """The stored account whose actor id is ``uri`` (remote), or None."""
    return db.session.scalar(sa.select(User).where(User.actor_uri == uri))
