"""Media rules: checking and storing uploads, attaching them to posts, processing them in a job,
and deleting stored files once nothing uses them.

An upload is checked from its bytes at once (type, size, pixels, frames, the account's quota) and
stored raw under a private key; a ``Media`` row records it. The job then decodes it, applies the
EXIF orientation, drops every piece of metadata, re-encodes it at display and thumbnail sizes and
stores those under public keys named by their content. A file is deleted only through a
``FileDeletion`` row written by the transaction that stopped using it, after that commit, and only
when no row still names it (identical uploads share their files).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from microblog import images, jobs
from microblog.exceptions import NotFound, PermissionDenied, TooLarge, Unavailable, ValidationError
from microblog.extensions import db
from microblog.media_storage import StorageError, key_for, storage
from microblog.models import (
    ID_MAX,
    MEDIA_DESCRIPTION_MAX,
    Media,
    MediaStatus,
    Post,
    User,
)
from microblog.services import media_files, roles
from microblog.textutil import has_control_characters
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

# A job retries an upload it could not process (storage down, worker killed) this many times in all.
MAX_ATTEMPTS = 5
# A pending upload untouched for this long is handed to a job again by the periodic sweep.
STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Upload:
    """An upload checked from its bytes, not stored yet."""

    data: bytes
    probe: images.Probe
    digest: str
    description: str | None


def _limit(name: str) -> int:
    return int(current_app.config[name])


def _size(count: int) -> str:
    """A size in megabytes for messages, written in the reader's language ("10 MB", "1,024 MB")."""
    return _("%(size)s MB", size=format_decimal(round(count / (1024 * 1024), 1)))


def clean_description(description: str | None) -> str | None:
    """Strip alt text and check it; an empty one is none.

    :raises ValidationError: too long, or containing control characters.
    """
    description = (description or "").replace("\r\n", "\n").strip()
    if not description:
        return None
    if len(description) > MEDIA_DESCRIPTION_MAX:
        raise ValidationError(_("A description is at most %(max)d characters.", max=MEDIA_DESCRIPTION_MAX),
                              field="description")
    if has_control_characters(description):
        raise ValidationError(_("A description cannot contain control characters."), field="description")
    return description


def refusal_message(reason: str) -> str:
    """Why an image was refused (an ``images.ImageRefused`` reason), in the reader's language."""
    messages = {
        "type": _("This file is not an image we accept: upload a JPEG, PNG, WebP or GIF."),
        "corrupt": _("This image could not be read: the file may be damaged."),
        "pixels": _("This image has too many pixels (at most %(count)s).",
                    count=format_decimal(_limit("MEDIA_MAX_PIXELS"))),
        "frames": _("This animation has too many frames (at most %(count)s).",
                    count=format_decimal(_limit("MEDIA_MAX_FRAMES"))),
        "dimensions": _("This image is too wide or too tall."),
    }
    return messages.get(reason, messages["corrupt"])


def failure_message(reason: str | None) -> str:
    """Why the job could not make an upload's files (``Media.error``), in the reader's language."""
    if reason in images.REASONS:
        return refusal_message(reason or "")
    return _("This image could not be processed; please upload it again.")


def check_upload(data: bytes, description: str | None = None) -> Upload:
    """Check an upload from its bytes (its name and Content-Type are never trusted).

    :raises TooLarge: over MEDIA_MAX_BYTES (a ValidationError).
    :raises ValidationError: empty, not a JPEG/PNG/WebP/GIF, unreadable, too many pixels or frames, or
        the alt text breaks its rules.
    """
    if not data:
        raise ValidationError(_("The file is empty."), field="media")
    if len(data) > _limit("MEDIA_MAX_BYTES"):
        limit = _size(_limit("MEDIA_MAX_BYTES"))
        raise TooLarge(_("This file is too large (at most %(size)s).", size=limit), field="media")
    try:
        probe = images.probe(data, max_pixels=_limit("MEDIA_MAX_PIXELS"),
                             max_frames=_limit("MEDIA_MAX_FRAMES"))
    except images.ImageRefused as refused:
        raise ValidationError(refusal_message(refused.reason), field="media") from None
    return Upload(data=data, probe=probe, digest=hashlib.sha256(data).hexdigest(),
                  description=clean_description(description))


def used_bytes(user: User) -> int:
    """What ``user``'s uploads cost their quota."""
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Media.size_bytes), 0))
                             .where(Media.user_id == user.id)) or 0


def _check_quota(user: User, adding: int) -> None:
    quota = _limit("MEDIA_QUOTA_BYTES")
    if used_bytes(user) + adding > quota:
        raise ValidationError(_("Your storage for images is full (%(quota)s). Delete posts with images to "
                                "make room.", quota=_size(quota)), field="media")


def store_uploads(user: User, uploads: Sequence[Upload], already: int = 0) -> list[Media]:
    """Store checked uploads raw and add their rows (waiting for the job) to the session; the caller
    commits, then calls ``queue_processing``.

    :raises ValidationError: more than MEDIA_PER_POST images (with ``already`` attached), or the quota.
    :raises Unavailable: the storage could not be reached (nothing is added).
    """
    if not uploads:
        return []
    if already + len(uploads) > _limit("MEDIA_PER_POST"):
        raise ValidationError(_("A post has at most %(count)d images.", count=_limit("MEDIA_PER_POST")),
                              field="media")
    _check_quota(user, sum(len(upload.data) for upload in uploads))
    rows: list[Media] = []
    for upload in uploads:
        key = key_for(upload.digest, None, public=False)
        try:
            storage().put(key, upload.data, upload.probe.mime)
        except StorageError:
            log.exception("could not store an upload")
            _forget_stored(rows)
            raise Unavailable(_("Images cannot be saved right now. Nothing was posted: please try again "
                                "in a moment."), field="media") from None
        media = Media(user_id=user.id, digest=upload.digest, original_key=key, size_bytes=len(upload.data),
                      description=upload.description, mime=upload.probe.mime,
                      width=upload.probe.width, height=upload.probe.height,
                      animated=upload.probe.frames > 1)
        db.session.add(media)
        rows.append(media)
    return rows


def _forget_stored(rows: Sequence[Media]) -> None:
    """Undo the part of ``store_uploads`` that worked before a later file failed: its rows leave the
    session, and its raw files are deleted now (they would have no row to find them by later)."""
    for media in rows:
        db.session.expunge(media)
    media_files.delete_unused([media.original_key for media in rows if media.original_key])


def upload_media(user: User, data: bytes, description: str | None = None, *,
                 process_now: bool = False) -> Media:
    """Upload one image to attach to a post later (the API's way): stored now, processed by a job, or
    here and now with ``process_now`` (Mastodon's v1 upload answers with the processed image); an
    upload the storage kept from being processed now is handed to the job all the same.

    :raises AccountSuspended: the account is suspended.
    :raises ValidationError: see ``check_upload`` and ``store_uploads``.
    :raises Unavailable: the storage is down.
    """
    roles.check_not_suspended(user)
    media = store_uploads(user, [check_upload(data, description)])[0]
    db.session.commit()
    if process_now:
        process_media(media.id)
        db.session.refresh(media)
        if media.status != MediaStatus.PENDING:
            return media
    queue_processing([media])
    return media


def own_media(user: User, media_id: int) -> Media:
    """``user``'s upload with this id.

    :raises NotFound: no such upload, or someone else's.
    """
    media = db.session.get(Media, media_id) if 0 < media_id <= ID_MAX else None
    if media is None or media.user_id != user.id:
        raise NotFound(_("That image does not exist."))
    return media


def describe_media(user: User, media_id: int, description: str | None) -> Media:
    """Change the alt text of an upload that is not part of a post yet.

    :raises NotFound: not ``user``'s upload.
    :raises PermissionDenied: it is attached to a post already.
    :raises ValidationError: the alt text breaks its rules.
    """
    media = own_media(user, media_id)
    if media.post_id is not None:
        raise PermissionDenied(_("The description of an image can be changed until it is posted."))
    media.description = clean_description(description)
    db.session.commit()
    return media


def claim_media(user: User, media_ids: Iterable[int]) -> list[Media]:
    """``user``'s uploads with these ids, in this order, free to attach to a new post.

    :raises ValidationError: too many, repeated, someone else's, attached already, or failed.
    """
    ids = list(media_ids)
    if not ids:
        return []
    if len(ids) > _limit("MEDIA_PER_POST"):
        raise ValidationError(_("A post has at most %(count)d images.", count=_limit("MEDIA_PER_POST")),
                              field="media_ids")
    if len(set(ids)) != len(ids):
        raise ValidationError(_("The same image is attached twice."), field="media_ids")
    wanted = [i for i in ids if 0 < i <= ID_MAX]
    found = {m.id: m for m in db.session.scalars(sa.select(Media).where(Media.id.in_(wanted)))}
    claimed = []
    for media_id in ids:
        media = found.get(media_id)
        if media is None or media.user_id != user.id or media.post_id is not None:
            message = _("Image %(id)s cannot be attached: it is not one of your unposted uploads.",
                        id=media_id)
            raise ValidationError(message, field="media_ids")
        if media.status == MediaStatus.FAILED:
            raise ValidationError(_("Image %(id)s could not be processed; upload it again.", id=media_id),
                                  field="media_ids")
        claimed.append(media)
    return claimed


def attach(post: Post, attachments: Sequence[Media]) -> None:
    """Make ``attachments`` the images of the new ``post``, in order (in the caller's transaction)."""
    for position, media in enumerate(attachments):
        media.post = post
        media.position = position
    post.media_count = len(attachments)


def queue_processing(uploads: Iterable[Media]) -> None:
    """After the commit: hand each upload to the job, which leaves alone one that is not waiting.

    By the ids the session still knows: the commit expired the rows, and reading each again to look at
    its status cost a statement per image in the request that posted them.
    """
    for media in uploads:
        identity: tuple[int, ...] | None = sa.inspect(media).identity
        jobs.enqueue(process_media, identity[0] if identity else media.id)


@jobs.task
def process_media(media_id: int) -> None:
    """Turn a raw upload into its public files: display size and thumbnail, metadata gone, named by
    their content. A storage failure leaves the upload waiting (the sweep retries it); an image that
    cannot be decoded is marked failed, with its reason."""
    media = db.session.get(Media, media_id)
    if media is None or media.status != MediaStatus.PENDING or media.original_key is None:
        return
    media.attempts += 1
    db.session.commit()
    try:
        raw = storage().get(media.original_key)
    except StorageError:
        log.warning("upload %s: its raw file cannot be read now; retried later", media_id, exc_info=True)
        return
    try:
        processed = images.process_attachment(raw, max_pixels=_limit("MEDIA_MAX_PIXELS"),
                                              max_frames=_limit("MEDIA_MAX_FRAMES"))
    except images.ImageRefused as refused:
        _fail(media, refused.reason)
        return
    keys = []
    try:
        for rendition in (processed.display, processed.thumbnail):
            key = key_for(hashlib.sha256(rendition.data).hexdigest(), rendition.ext)
            if key not in keys:  # a small image's thumbnail is its display size: the same file
                storage().put(key, rendition.data, rendition.mime)
            keys.append(key)
    except StorageError:
        log.warning("upload %s: its files cannot be stored now; retried later", media_id, exc_info=True)
        return
    display, thumbnail = processed.display, processed.thumbnail
    old_key = media.original_key
    media.file_key, media.thumbnail_key = keys
    media.mime = display.mime
    media.width, media.height = display.width, display.height
    media.thumbnail_width, media.thumbnail_height = thumbnail.width, thumbnail.height
    media.animated = processed.animated
    media.colour, media.blurhash = processed.colour, processed.blurhash
    media.size_bytes = len(display.data) + len(thumbnail.data)
    media.original_key = None
    media.status = MediaStatus.READY
    media.processed_at = utcnow()
    media_files.discard_keys([old_key])
    try:
        db.session.commit()
    except StaleDataError:  # the upload went (its post was deleted) while the job ran: so do its files
        db.session.rollback()
        media_files.discard_keys(keys)
        db.session.commit()
    media_files.queue_deletions()


def _fail(media: Media, reason: str) -> None:
    old_key = media.original_key
    media.status = MediaStatus.FAILED
    media.error = reason
    media.original_key = None
    media.size_bytes = 0
    media.processed_at = utcnow()
    media_files.discard_keys([old_key])
    try:
        db.session.commit()
    except StaleDataError:  # the upload went while the job ran
        db.session.rollback()
    media_files.queue_deletions()


def retry_stale() -> int:
    """Hand uploads still waiting long after they were made to the job again; give up after
    MAX_ATTEMPTS (the upload fails, and says so)."""
    cutoff = utcnow() - STALE_AFTER
    stale = db.session.scalars(sa.select(Media).where(Media.status == MediaStatus.PENDING,
                                                      Media.created_at < cutoff).limit(100)).all()
    waiting = []
    for media in stale:
        if media.attempts >= MAX_ATTEMPTS:
            _fail(media, "unavailable")
        else:
            waiting.append(media.id)
    for media_id in waiting:
        jobs.enqueue(process_media, media_id)
    return len(waiting)


@jobs.periodic
def media_upkeep() -> None:
    """Every worker, regularly: retry stuck uploads, sweep orphans, delete files whose time came."""
    retry_stale()
    media_files.sweep_orphans()
    media_files.delete_files()


# -- reading ------------------------------------------------------------------------------------------
# An image as the cards, the API and exports read it: a row of every column of ``media``, by name.
MediaRow = sa.Row[Any]


@cache
def _media_of_posts_statement() -> sa.Select:
    """Every column of the images of the posts ``post_ids`` (a bound list), in order: built once."""
    return (sa.select(*Media.__table__.c).where(Media.post_id.in_(sa.bindparam("post_ids", expanding=True)))
            .order_by(Media.post_id, Media.position))


def media_of_posts(post_ids: Sequence[int]) -> dict[int, list[MediaRow]]:
    """The images of these posts, in order, in one statement (only ask for posts with ``media_count``).

    Read-only rows (every column of ``media``, by name), not ORM objects: a page of cards reads up to a
    hundred of them, and making and tracking objects nobody changes cost more than the query.
    """
    if not post_ids:
        return {}
    found: dict[int, list[MediaRow]] = {}
    for row in db.session.execute(_media_of_posts_statement(), {"post_ids": list(post_ids)}):
        found.setdefault(row.post_id, []).append(row)
    return found
