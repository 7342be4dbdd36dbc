"""Media: images attached to posts (``Media``), and the stored files waiting to be deleted (``FileDeletion``).

An upload becomes a ``Media`` row at once, with its raw bytes kept under a private key ("incoming/...")
until a job has checked, stripped and resized them into the public files ("m/...", named by the
hash of their own bytes). Files are deleted only after the transaction that stopped using them has
committed, through ``FileDeletion`` rows written in that same transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.posts import Post
    from microblog.models.users import User

# Alt text: as long as Mastodon allows.
MEDIA_DESCRIPTION_MAX = 1500
# A storage key: "m/ab/<64 hex>.webp", "incoming/ab/<64 hex>".
MEDIA_KEY_MAX = 160
# Images per post, whatever MEDIA_PER_POST says (the CHECK on post.media_count).
MEDIA_PER_POST_CEILING = 4


class MediaStatus(enum.StrEnum):
    """Where an upload is, stored as its value in ``media.status``."""

    PENDING = "pending"  # stored raw, waiting for the job
    READY = "ready"  # processed: the public files exist
    FAILED = "failed"  # the job could not read it (the reason is in ``error``)


class Media(db.Model):
    """One uploaded image, its alt text, and the files made from it."""

    __table_args__ = (
        sa.CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in MediaStatus)})", name="status"),
        sa.CheckConstraint(f"position BETWEEN 0 AND {MEDIA_PER_POST_CEILING - 1}", name="position"),
        # A post's images in order (and the orphan sweep: post_id IS NULL, oldest first).
        sa.Index("ix_media_post_id_position", "post_id", "position"),
        # An account's uploads: its quota, its export.
        sa.Index("ix_media_user_id_created_at", "user_id", "created_at"),
        sa.Index("ix_media_created_at", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    post_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("post.id", ondelete="CASCADE"))
    position: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=0, server_default="0")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=MediaStatus.PENDING,
                                              server_default=MediaStatus.PENDING.value)
    description: so.Mapped[str | None] = so.mapped_column(sa.String(MEDIA_DESCRIPTION_MAX))
    # The sha256 of the bytes as uploaded, and where they wait for the job (None once processed).
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    original_key: so.Mapped[str | None] = so.mapped_column(sa.String(MEDIA_KEY_MAX))
    # The bytes this upload costs its account's quota: the upload's size until processed, then the
    # size of the files kept.
    size_bytes: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0, server_default="0")
    # The public files, once processed.
    mime: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    file_key: so.Mapped[str | None] = so.mapped_column(sa.String(MEDIA_KEY_MAX))
    thumbnail_key: so.Mapped[str | None] = so.mapped_column(sa.String(MEDIA_KEY_MAX))
    width: so.Mapped[int | None] = so.mapped_column()
    height: so.Mapped[int | None] = so.mapped_column()
    thumbnail_width: so.Mapped[int | None] = so.mapped_column()
    thumbnail_height: so.Mapped[int | None] = so.mapped_column()
    animated: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # The placeholder shown while the image loads: its average colour and its BlurHash.
    colour: so.Mapped[str | None] = so.mapped_column(sa.String(7))
    blurhash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    error: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    attempts: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=0, server_default="0")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    processed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Set by a moderator: the image is replaced by a notice for everyone but moderators.
    hidden_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User] = so.relationship()
    post: so.Mapped[Post | None] = so.relationship()

    @property
    def is_ready(self) -> bool:
        return self.status == MediaStatus.READY

    def keys(self) -> list[str]:
        """Every stored file of this upload."""
        return [key for key in (self.original_key, self.file_key, self.thumbnail_key) if key]

    def __repr__(self) -> str:
        return f"<Media {self.id} {self.status} post={self.post_id}>"


class FileDeletion(db.Model):
    """A stored file to delete once nothing uses it: written in the transaction that stopped using it,
    removed by a job after the commit (and retried by the periodic sweep while storage is down)."""

    __tablename__ = "file_deletion"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(MEDIA_KEY_MAX), index=True)
    attempts: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=0, server_default="0")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    not_before: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
