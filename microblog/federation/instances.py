"""Other servers, by domain: the moderators' blocks and how deliveries to them go."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Instance


def domain_of(uri: str) -> str:
    """The host (with a port, if any) of ``uri``, lower-cased: the domain a remote thing belongs to."""
    return urlsplit(uri).netloc.lower()


def is_blocked(domain: str) -> bool:
    """Whether moderators blocked ``domain`` or a domain it is under (blocking example.com blocks
    social.example.com too)."""
    host = domain.lower()
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # without its port
    labels = bare.split(".")
    candidates = {".".join(labels[i:]) for i in range(len(labels))} | {host}
    return db.session.scalar(sa.select(sa.exists().where(
        Instance.domain.in_(candidates), Instance.blocked_at.is_not(None)))) or False


def rejects_media(domain: str) -> bool:
    """Whether posts from ``domain`` arrive without their images (a moderators' decision)."""
    found = db.session.scalar(sa.select(Instance.reject_media).where(Instance.domain == domain.lower()))
    return bool(found)
