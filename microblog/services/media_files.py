"""Deleting stored media files once nothing uses them: ``FileDeletion`` rows written by the transaction
that stopped using a file, worked off by a job after its commit and retried while storage is down;
and the sweep of uploads never attached to a post.

Identical uploads share their files (a file is named by its content), so a file is deleted only
when no upload, profile picture or header still names it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from microblog import jobs
from microblog.extensions import db
from microblog.media_storage import StorageError, storage
from microblog.models import FileDeletion, Media, User
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

# Deletions that failed wait longer after each attempt, up to a day.
_DELETION_BACKOFF = (60, 300, 1800, 3600 * 3, 86400)
_DELETIONS_PER_RUN = 200


def discard_keys(keys: Iterable[str | None]) -> None:
    """Delete these stored files after the caller's commit (``queue_deletions``) if nothing uses them then."""
    for key in keys:
        if key:
            db.session.add(FileDeletion(key=key))


def discard_post_media(post_ids: Sequence[int]) -> None:
    """The files of the images of these posts, to delete after the caller's commit (the rows go with
    the posts, ON DELETE CASCADE)."""
    if post_ids:
        rows = db.session.scalars(sa.select(Media).where(Media.post_id.in_(list(post_ids))))
        discard_keys(key for media in rows for key in media.keys())


def discard_user_media(user: User) -> None:
    """Every file of ``user`` (uploads, profile picture, header), to delete after the caller's commit."""
    rows = db.session.scalars(sa.select(Media).where(Media.user_id == user.id))
    discard_keys([key for media in rows for key in media.keys()] + [user.avatar_key, user.header_key])


def queue_deletions() -> None:
    """After the commit: delete the files waiting for it."""
    jobs.enqueue(delete_files)


def _in_use(key: str) -> bool:
    used = sa.union_all(
        sa.select(Media.id).where(sa.or_(Media.file_key == key, Media.thumbnail_key == key,
                                         Media.original_key == key)),
        sa.select(User.id).where(sa.or_(User.avatar_key == key, User.header_key == key)),
    )
    return bool(db.session.scalar(sa.select(sa.exists(used))))


def delete_unused(keys: Iterable[str]) -> None:
    """Delete these files now unless a row uses them (files stored by a transaction that will not
    commit); a failure is logged and the file left behind."""
    for key in dict.fromkeys(keys):
        if _in_use(key):
            continue
        try:
            storage().delete(key)
        except StorageError:
            log.warning("could not delete %s, stored for an upload that was not saved", key, exc_info=True)


@jobs.task
def delete_files() -> int:
    """Delete the files whose time has come and that nothing uses; a failure waits and is retried.
    Returns how many were deleted."""
    now = utcnow()
    due = db.session.scalars(sa.select(FileDeletion).where(FileDeletion.not_before <= now)
                             .order_by(FileDeletion.id).limit(_DELETIONS_PER_RUN)).all()
    deleted = 0
    for row in due:
        if not _in_use(row.key):
            try:
                storage().delete(row.key)
                deleted += 1
            except StorageError:
                log.warning("could not delete %s; retried later", row.key, exc_info=True)
                row.attempts += 1
                row.not_before = now + timedelta(seconds=_DELETION_BACKOFF[min(row.attempts, 5) - 1])
                continue
        db.session.delete(row)
    db.session.commit()
    return deleted


def sweep_orphans() -> int:
    """Delete uploads never attached to a post after MEDIA_ORPHAN_HOURS, with their files."""
    cutoff = utcnow() - timedelta(hours=int(current_app.config["MEDIA_ORPHAN_HOURS"]))
    orphans = db.session.scalars(sa.select(Media).where(Media.post_id.is_(None), Media.created_at < cutoff)
                                 .order_by(Media.created_at).limit(500)).all()
    for media in orphans:
        discard_keys(media.keys())
        db.session.delete(media)
    db.session.commit()
    return len(orphans)
