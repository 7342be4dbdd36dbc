"""Other servers, by domain: the moderators' blocks and how deliveries to them go."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Instance


def domain_of(uri: str) -> str:
    """The host (with a port, if any) of ``uri``, lower-cased: the domain a remote thing belongs to."""
    return urlsplit(uri).netloc.lower()


def _with_parents(domain: str) -> set[str]:
    """``domain`` (with and without its port) and every domain it is under: a decision about
    example.com covers social.example.com too."""
    host = domain.lower()
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # without its port
    labels = bare.split(".")
    return {".".join(labels[i:]) for i in range(len(labels))} | {host}


def is_blocked(domain: str) -> bool:
    """Whether moderators blocked ``domain`` or a domain it is under."""
    return db.session.scalar(sa.select(sa.exists().where(
        Instance.domain.in_(_with_parents(domain)), Instance.blocked_at.is_not(None)))) or False


def rejects_media(domain: str) -> bool:
    """Whether posts from ``domain`` (or a domain it is under) arrive without their images."""
    return db.session.scalar(sa.select(sa.exists().where(
        Instance.domain.in_(_with_parents(domain)), Instance.reject_media.is_(True)))) or False
