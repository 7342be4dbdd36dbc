"""Profile pictures and header images: checked, cropped and stripped at once (they are small), stored
by their content, the replaced file deleted after the commit."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from flask import current_app
from flask_babel import gettext as _

from microblog import images
from microblog.exceptions import Unavailable, ValidationError
from microblog.extensions import db
from microblog.federation import outgoing
from microblog.media_storage import StorageError, key_for, storage
from microblog.models import User
from microblog.services import media, media_files, roles

log = logging.getLogger(__name__)

# Which column holds each kind of picture, and how it is made.
KINDS = ("avatar", "header")


def _renderer(kind: str) -> Callable[..., images.Rendition]:
    return images.process_avatar if kind == "avatar" else images.process_header


def set_picture(user: User, kind: str, data: bytes) -> str:
    """Make ``data`` ``user``'s profile picture (``kind`` "avatar") or header image ("header"); returns
    the new file's key.

    :raises AccountSuspended: the account is suspended.
    :raises ValidationError: not an image we accept (see ``media.check_upload``).
    :raises Unavailable: the storage is down (the old picture stays).
    """
    if kind not in KINDS:
        raise ValueError(kind)
    roles.check_not_suspended(user)
    media.check_upload(data)
    config = current_app.config
    try:
        rendition = _renderer(kind)(data, max_pixels=config["MEDIA_MAX_PIXELS"],
                                    max_frames=config["MEDIA_MAX_FRAMES"])
    except images.ImageRefused as refused:
        raise ValidationError(media.refusal_message(refused.reason), field=kind) from None
    key = key_for(hashlib.sha256(rendition.data).hexdigest(), rendition.ext)
    try:
        storage().put(key, rendition.data, rendition.mime)
    except StorageError:
        log.exception("could not store a profile picture")
        raise Unavailable(_("Images cannot be saved right now: please try again in a moment."),
                          field=kind) from None
    _replace(user, kind, key)
    return key


def remove_picture(user: User, kind: str) -> None:
    """Go back to the identicon (``kind`` "avatar") or to no header ("header")."""
    if kind not in KINDS:
        raise ValueError(kind)
    _replace(user, kind, None)


def _replace(user: User, kind: str, key: str | None) -> None:
    column = f"{kind}_key"
    old = getattr(user, column)
    if old == key:
        return
    setattr(user, column, key)
    media_files.discard_keys([old])
    db.session.commit()
    media_files.queue_deletions()
    outgoing.profile_updated(user.id)  # other servers show the new picture
