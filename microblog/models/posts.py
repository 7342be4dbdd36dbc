"""Posts, and the one rule that says who may see which."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog import fulltext
from microblog.extensions import db
from microblog.models.roles import Permission
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.users import User

# The hard ceiling for a post body in the database; POST_MAX_LENGTH (config) must not exceed it.
POST_BODY_CEILING = 1000


class Post(db.Model):
    """A short public post."""

    __table_args__ = (
        sa.CheckConstraint(f"length(body) BETWEEN 1 AND {POST_BODY_CEILING}", name="body_length"),
        # The timeline and profile pages walk one author's posts newest first. hidden_at rides along
        # so the timeline finds a page's ids from this index alone (pagination.post_page).
        sa.Index("ix_post_user_id_timestamp_id_hidden_at", "user_id", "timestamp", "id", "hidden_at"),
        # Explore walks all posts newest first.
        sa.Index("ix_post_timestamp_id", "timestamp", "id"),
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

    author: so.Mapped[User] = so.relationship(back_populates="posts", lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Post {self.id}>"

    @staticmethod
    def newest_first(query: sa.Select) -> sa.Select:
        return query.order_by(Post.timestamp.desc(), Post.id.desc())

    # -- the visibility rule: every read of posts, web, API, search and exports, goes through it --
    @staticmethod
    def visible_to(viewer: User | None, *, listing: bool = False) -> sa.ColumnElement[bool]:
        """The one visibility rule, as a where-clause: the posts ``viewer`` (None: signed out) may see.

        - A post a moderator hid (``hidden_at``) is seen by its author, everywhere it would appear,
          and by those who may moderate posts; the pages and the API mark it as hidden. Nobody else
          sees it, in any list, lookup or search.
        - ``listing``: a list the viewer did not ask for by name (timelines, Explore, search) also
          leaves out the authors in :meth:`left_out_authors` (the people the viewer blocked). A
          profile or a permalink still shows them: the viewer went there on purpose.

        Later rules slot in here: deleted posts (seen by nobody), followers-only posts (the author
        and their followers) in the first part; muted authors in ``left_out_authors``.
        """
        if viewer is None:
            seen = Post.hidden_at.is_(None)
        elif viewer.can(Permission.MODERATE_POSTS):
            seen = sa.true()
        else:
            seen = sa.or_(Post.hidden_at.is_(None), Post.user_id == viewer.id)
        if listing and viewer is not None:
            return sa.and_(seen, Post.user_id.not_in(Post.left_out_authors(viewer)))
        return seen

    @staticmethod
    def left_out_authors(viewer: User) -> sa.Select:
        """Ids of the authors whose posts ``viewer``'s lists leave out: the people they blocked."""
        return viewer.blocked_ids_select()

    @staticmethod
    def visible_select(viewer: User | None, *, listing: bool = False) -> sa.Select:
        """The posts ``viewer`` may see (``visible_to``), for a lookup or a list to narrow down."""
        return sa.select(Post).where(Post.visible_to(viewer, listing=listing))

    @staticmethod
    def explore_select(viewer: User | None = None) -> sa.Select:
        """Everyone's posts that ``viewer`` may see in a list, newest first."""
        return Post.newest_first(Post.visible_select(viewer, listing=True))
