"""Posts, and the one rule that says who may see which."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog import fulltext
from microblog.extensions import db
from microblog.models.follows import Block, Mute, followers
from microblog.models.media import MEDIA_PER_POST_CEILING
from microblog.models.roles import Permission
from microblog.models.tags import Mention
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.users import User

# The hard ceiling for a post body in the database; POST_MAX_LENGTH (config) must not exceed it.
POST_BODY_CEILING = 1000
# The longest content warning (``summary``, ActivityStreams' name for it).
SUMMARY_MAX = 500


class Visibility(enum.StrEnum):
    """Who may see a post, stored as its value in ``post.visibility`` (ActivityPub's addressing).

    - PUBLIC: everyone, everywhere (timelines, Explore, tags, search, feeds).
    - UNLISTED: everyone who looks for it (the profile, the permalink, followers' timelines), but not
      Explore, tags, search or feeds.
    - FOLLOWERS: the author, their followers and the people it mentions; nobody else, anywhere.
    """

    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"


@dataclass(frozen=True)
class ViewerRef:
    """A viewer as a statement sees them, for statements built once and run for anyone: ``id`` is a
    bound parameter (or a value), ``moderator`` whether they may moderate posts. ``Post.visible_to``
    takes one wherever it takes a User."""

    id: Any
    moderator: bool = False

    def can(self, permission: Permission | str) -> bool:
        return self.moderator and permission == Permission.MODERATE_POSTS


class Post(db.Model):
    """A short post: maybe a reply (``in_reply_to``), maybe behind a content warning (``summary``)."""

    __table_args__ = (
        sa.CheckConstraint(f"length(body) BETWEEN 1 AND {POST_BODY_CEILING}", name="body_length"),
        # The timeline and profile pages walk one author's posts newest first. hidden_at rides along
        # so the timeline finds a page's ids from this index alone (pagination.post_page).
        sa.Index("ix_post_user_id_timestamp_id_hidden_at", "user_id", "timestamp", "id", "hidden_at"),
        # Explore walks all posts newest first.
        sa.Index("ix_post_timestamp_id", "timestamp", "id"),
        # A thread's replies, oldest first.
        sa.Index("ix_post_in_reply_to_id_id", "in_reply_to_id", "id"),
        # Full-text search with SEARCH_BACKEND=postgres (GIN, created on PostgreSQL only).
        *fulltext.gin_indexes("post"),
    )
    # The stored search vectors (PostgreSQL only) are columns of the table, never loaded with a post.
    __mapper_args__ = {"exclude_properties": [column for column, _sql, _index in fulltext.POST_VECTORS]}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    body: so.Mapped[str] = so.mapped_column(sa.String(POST_BODY_CEILING))
    timestamp: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    # Detected language of the body (an ISO 639-1 code, or a Babel locale such as zh_CN), if known.
    language: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    # Set when a moderator hid the post: only its author and moderators see it (Post.visible_to).
    hidden_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    search_simple, search_stemmed = fulltext.post_vector_columns()
    # The post this one answers; NULL for a post that starts a conversation, and again when the
    # parent is deleted (``is_reply`` remembers that it was a reply: "in reply to a deleted post").
    in_reply_to_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("post.id", ondelete="SET NULL"))
    in_reply_to_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    is_reply: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # A Visibility, read back as its plain str value.
    visibility: so.Mapped[str] = so.mapped_column(
        sa.String(16),
        sa.CheckConstraint("visibility IN ('public', 'unlisted', 'followers')", name="visibility"),
        default=Visibility.PUBLIC, server_default=Visibility.PUBLIC.value,
    )
    # The content warning shown instead of the body until the reader opens it.
    summary: so.Mapped[str | None] = so.mapped_column(sa.String(SUMMARY_MAX))
    # When the author last changed the text (the earlier versions are PostEdit rows).
    edited_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Denormalized counts, kept exact by the services in the same transaction as the change.
    reply_count: so.Mapped[int] = so.mapped_column(
        sa.CheckConstraint("reply_count >= 0", name="reply_count"), default=0, server_default="0"
    )
    like_count: so.Mapped[int] = so.mapped_column(
        sa.CheckConstraint("like_count >= 0", name="like_count"), default=0, server_default="0"
    )
    repost_count: so.Mapped[int] = so.mapped_column(
        sa.CheckConstraint("repost_count >= 0", name="repost_count"), default=0, server_default="0"
    )
    # How many images the post has (media rows): a card looks its images up only when it has some.
    media_count: so.Mapped[int] = so.mapped_column(
        sa.SmallInteger, sa.CheckConstraint(f"media_count BETWEEN 0 AND {MEDIA_PER_POST_CEILING}",
                                            name="media_count"), default=0, server_default="0"
    )

    # -- a remote post (federation): its ActivityPub id and its page at its origin, the HTML it was
    # published with (sanitized to a small allow-list before it is stored; ``body`` is its plain text,
    # for search and previews), and its attachments as JSON (remote media is referenced, not copied).
    uri: so.Mapped[str | None] = so.mapped_column(sa.String(2048), index=True, unique=True)
    url: so.Mapped[str | None] = so.mapped_column(sa.String(2048))
    content_html: so.Mapped[str | None] = so.mapped_column(sa.Text)
    remote_attachments: so.Mapped[str | None] = so.mapped_column(sa.Text)

    author: so.Mapped[User] = so.relationship(
        back_populates="posts", lazy="joined", innerjoin=True, foreign_keys=[user_id]
    )
    # The parent's author's name, for "Replying to @name" on the card: ``in_reply_to_username``, a
    # column of the post (a correlated lookup by primary key), added in models/users.py.

    def __repr__(self) -> str:
        return f"<Post {self.id}>"

    @staticmethod
    def newest_first(query: sa.Select) -> sa.Select:
        return query.order_by(Post.timestamp.desc(), Post.id.desc())

    # -- the visibility rule: every read of posts, web, API, search and exports, goes through it --
    @staticmethod
    def visible_to(viewer: User | ViewerRef | None, *, listing: bool = False, audience_checked: bool = False,
                   public: bool = False) -> sa.ColumnElement[bool]:
        """The one visibility rule, as a where-clause: the posts ``viewer`` (None: signed out) may see.

        - A post a moderator hid (``hidden_at``) is seen by its author, everywhere it would appear,
          and by those who may moderate posts; the pages and the API mark it as hidden. Nobody else
          sees it, in any list, lookup or search.
        - A followers-only post is seen by its author, their followers and the people it mentions
          (and moderators). ``audience_checked``: the caller already knows the viewer is the author or
          follows every author in the list (the home timeline, one's own profile), which saves the
          database the test.
        - ``listing``: a list the viewer did not ask for by name (timelines, Explore, tags, search) also
          leaves out the authors in :meth:`left_out_authors` (the people the viewer blocked or muted).
          A profile or a permalink still shows them: the viewer went there on purpose.

        - ``public``: a list for everyone (Explore, tags, search, feeds) holds public posts only
          (:meth:`public_only`), which are addressed to anyone: no audience test.
        - The posts of a deactivated account (:meth:`deactivated_authors`) are seen by nobody else:
          lists leave them out with the blocked and muted authors, lookups test for them unless the
          caller checked the audience (its authors are the viewer and the people they follow, already
          filtered).
        """
        caller_checked = audience_checked
        if public:
            audience_checked = True
        if viewer is None:
            shown = Post.public_only() if public else Post.visibility != Visibility.FOLLOWERS.value
            return sa.and_(Post.hidden_at.is_(None), shown, Post.user_id.not_in(Post.deactivated_authors()))
        if viewer.can(Permission.MODERATE_POSTS):
            seen: sa.ColumnElement[bool] = sa.true()
        else:
            seen = sa.or_(Post.hidden_at.is_(None), Post.user_id == viewer.id)
            if not audience_checked:
                seen = sa.and_(seen, Post.audience_includes(viewer))
        if public:
            seen = sa.and_(seen, Post.public_only())
        if listing:
            return sa.and_(seen, Post.user_id.not_in(Post.left_out_authors(viewer)))
        if not caller_checked:
            active = Post.user_id.not_in(Post.deactivated_authors())
            seen = sa.and_(seen, sa.or_(Post.user_id == viewer.id, active))
        return seen

    @staticmethod
    def audience_includes(viewer: User | ViewerRef) -> sa.ColumnElement[bool]:
        """The posts addressed to ``viewer``: anything not followers-only, their own, those of the
        people they follow, and those that mention them."""
        followed = sa.select(followers.c.followed_id).where(followers.c.follower_id == viewer.id)
        mentioned = sa.select(Mention.post_id).where(Mention.user_id == viewer.id, Mention.post_id == Post.id)
        return sa.or_(
            Post.visibility != Visibility.FOLLOWERS.value,
            Post.user_id == viewer.id,
            Post.user_id.in_(followed),
            sa.exists(mentioned),
        )

    @staticmethod
    def public_only() -> sa.ColumnElement[bool]:
        """Posts meant for lists anyone can read: Explore, tags, search and feeds (not unlisted ones)."""
        return Post.visibility == Visibility.PUBLIC.value

    @staticmethod
    def left_out_authors(viewer: User | ViewerRef) -> sa.CompoundSelect:
        """Ids of the authors whose posts ``viewer``'s lists leave out: the people they blocked or muted,
        and the deactivated accounts."""
        return sa.union_all(sa.select(Block.blocked_id).where(Block.blocker_id == viewer.id),
                            sa.select(Mute.muted_id).where(Mute.muter_id == viewer.id),
                            Post.deactivated_authors())

    @staticmethod
    def deactivated_authors() -> sa.Select:
        """Ids of the deactivated accounts (a few, read from an index on ``user.deactivated_at``)."""
        user = db.metadata.tables["user"]
        return sa.select(user.c.id).where(user.c.deactivated_at.is_not(None))

    @staticmethod
    def visible_select(viewer: User | None, *, listing: bool = False) -> sa.Select:
        """The posts ``viewer`` may see (``visible_to``), for a lookup or a list to narrow down."""
        return sa.select(Post).where(Post.visible_to(viewer, listing=listing))

    @staticmethod
    def explore_select(viewer: User | None = None) -> sa.Select:
        """Everyone's public posts that ``viewer`` may see in a list, newest first."""
        return Post.newest_first(sa.select(Post).where(Post.visible_to(viewer, listing=True, public=True)))
