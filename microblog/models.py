"""ORM models: users, posts, follows, messages, notifications and blocks, with read-only query builders."""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from microblog import fulltext, passwords
from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

# The hard ceiling for a post body in the database; POST_MAX_LENGTH (config) must not exceed it.
POST_BODY_CEILING = 1000
USERNAME_MAX = 32
EMAIL_MAX = 254
ABOUT_ME_MAX = 500
# Integer primary keys are 32-bit on PostgreSQL (64-bit on SQLite); ids past this match nothing.
ID_MAX = 2**31 - 1

ROLE_USER = "user"
ROLE_MODERATOR = "moderator"
ROLE_ADMIN = "admin"
ROLES = (ROLE_USER, ROLE_MODERATOR, ROLE_ADMIN)
# Higher ranks may act on lower ones (an admin can suspend a moderator, a moderator cannot).
ROLE_RANK = {ROLE_USER: 0, ROLE_MODERATOR: 1, ROLE_ADMIN: 2}
# The longest reason a moderator or a reporter can give.
REASON_MAX = 500


class Permission(enum.StrEnum):
    """What a role allows. Checked in one place (``services.roles.require``)."""

    MODERATE_POSTS = "moderate_posts"  # hide, show again or delete anyone's post
    SUSPEND_USERS = "suspend_users"  # suspend accounts of a lower role, and lift suspensions
    HANDLE_REPORTS = "handle_reports"  # see the report queue, resolve or dismiss reports
    CHANGE_ROLES = "change_roles"
    DELETE_USERS = "delete_users"  # delete an account with its posts, follows and messages
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_OUTBOX = "view_outbox"
    VIEW_DASHBOARD = "view_dashboard"  # counts and charts
    EXPORT_DATA = "export_data"  # every user or every post as CSV


_MODERATOR_PERMISSIONS = frozenset(
    {Permission.MODERATE_POSTS, Permission.SUSPEND_USERS, Permission.HANDLE_REPORTS}
)
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    ROLE_USER: frozenset(),
    ROLE_MODERATOR: _MODERATOR_PERMISSIONS,
    ROLE_ADMIN: frozenset(Permission),
}

followers = sa.Table(
    "followers",
    db.metadata,
    sa.Column("follower_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("followed_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    sa.CheckConstraint("follower_id <> followed_id", name="not_self"),
    # "Who follows X" walks this index; the primary key serves "whom does X follow".
    sa.Index("ix_followers_followed_id_follower_id", "followed_id", "follower_id"),
    # The follower and following lists, newest follow first, paged by keyset (no sort, no OFFSET).
    sa.Index("ix_followers_followed_id_created_at", "followed_id", "created_at", "follower_id"),
    sa.Index("ix_followers_follower_id_created_at", "follower_id", "created_at", "followed_id"),
)


class User(UserMixin, db.Model):
    """An account. Usernames keep their case for display but are unique without regard to it."""

    # Full-text search of names and about-me with SEARCH_BACKEND=postgres (PostgreSQL only).
    __table_args__ = (*fulltext.gin_indexes("user"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(USERNAME_MAX))
    # Stored lower-cased by the accounts service, so the plain unique constraint is case-blind.
    email: so.Mapped[str] = so.mapped_column(sa.String(EMAIL_MAX), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    about_me: so.Mapped[str | None] = so.mapped_column(sa.String(ABOUT_ME_MAX))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default=ROLE_USER, server_default=ROLE_USER)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_seen: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # None until the address is confirmed (when the site asks for confirmation).
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    notify_new_follower: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # Email about a new private message when the recipient has been away (MESSAGE_EMAIL_AFTER_MINUTES).
    notify_new_message: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # Preferred language (a code from LANGUAGES) and IANA time zone; None means "from the browser".
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # Denormalized counts, kept exact by the services (services/counters.py) in the same transaction
    # as the change they count: profiles and the API read them instead of counting rows.
    post_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    follower_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    following_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Set while the account is suspended: it can sign in and out, read and export, and change nothing.
    suspended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    suspension_reason: so.Mapped[str | None] = so.mapped_column(sa.String(REASON_MAX))
    # Part of the id Flask-Login keeps in the session and remember cookies; bumping it (logout,
    # password change, reset) makes every earlier cookie of this account stop authenticating.
    session_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    posts: so.WriteOnlyMapped[Post] = so.relationship(back_populates="author", passive_deletes=True)
    following: so.WriteOnlyMapped[User] = so.relationship(
        secondary=followers,
        primaryjoin=lambda: followers.c.follower_id == User.id,
        secondaryjoin=lambda: followers.c.followed_id == User.id,
        back_populates="followers",
        passive_deletes=True,
    )
    followers: so.WriteOnlyMapped[User] = so.relationship(
        secondary=followers,
        primaryjoin=lambda: followers.c.followed_id == User.id,
        secondaryjoin=lambda: followers.c.follower_id == User.id,
        back_populates="following",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and remember-me cookies (see sessions.py)."""
        return f"{self.id}:{self.session_version or 0}"

    def set_password(self, password: str) -> None:
        self.password_hash = passwords.hash_password(password)

    def check_password(self, password: str) -> bool:
        return passwords.verify_password(self.password_hash, password)

    @property
    def avatar_digest(self) -> str:
        """A stable, non-reversible seed for the generated avatar (does not reveal the email)."""
        return hashlib.sha256(f"microblog-avatar:{self.id}".encode()).hexdigest()[:32]

    @property
    def email_digest(self) -> str:
        """The MD5 of the address, as Gravatar expects it."""
        return hashlib.md5(self.email.strip().lower().encode(), usedforsecurity=False).hexdigest()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    def can(self, permission: Permission | str) -> bool:
        """True when this account's role grants ``permission``; a suspended account has none."""
        return self.suspended_at is None and permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def outranks(self, other: User) -> bool:
        return ROLE_RANK.get(self.role, 0) > ROLE_RANK.get(other.role, 0)

    def is_following(self, user: User) -> bool:
        query = self.following.select().where(User.id == user.id)
        return db.session.scalar(sa.select(sa.exists(query))) or False

    # -- query builders (read-only) -----------------------------------------------------------
    def posts_count_select(self) -> sa.Select:
        return sa.select(sa.func.count()).select_from(Post).where(Post.user_id == self.id)

    def followers_select(self) -> sa.Select:
        """Followers, the most recent first."""
        return (
            sa.select(User)
            .join(followers, followers.c.follower_id == User.id)
            .where(followers.c.followed_id == self.id)
            .order_by(followers.c.created_at.desc(), followers.c.follower_id.desc())
        )

    def following_select(self) -> sa.Select:
        """Users this user follows, the most recently followed first."""
        return (
            sa.select(User)
            .join(followers, followers.c.followed_id == User.id)
            .where(followers.c.follower_id == self.id)
            .order_by(followers.c.created_at.desc(), followers.c.followed_id.desc())
        )

    def posts_select(self, viewer: User | None = None) -> sa.Select:
        """This user's posts that ``viewer`` may see (``Post.visible_to``), newest first."""
        return Post.newest_first(sa.select(Post).where(Post.user_id == self.id, Post.visible_to(viewer)))

    def blocked_ids_select(self) -> sa.Select:
        """Ids of the people this user has blocked."""
        return sa.select(Block.blocked_id).where(Block.blocker_id == self.id)

    def conversations_select(self) -> sa.Select:
        """The newest message of each conversation this user is in, the most recent conversation first."""
        sent = sa.select(Message.recipient_id.label("other_id"), Message.id).where(
            Message.sender_id == self.id
        )
        received = sa.select(Message.sender_id.label("other_id"), Message.id).where(
            Message.recipient_id == self.id
        )
        both = sa.union_all(sent, received).subquery()
        latest = sa.select(sa.func.max(both.c.id).label("id")).group_by(both.c.other_id).subquery()
        return sa.select(Message).join(latest, Message.id == latest.c.id).order_by(Message.id.desc())

    def thread_select(self, other: User) -> sa.Select:
        """The messages between this user and ``other``, newest first."""
        return (
            sa.select(Message)
            .where(
                sa.or_(
                    sa.and_(Message.sender_id == self.id, Message.recipient_id == other.id),
                    sa.and_(Message.sender_id == other.id, Message.recipient_id == self.id),
                )
            )
            .order_by(Message.id.desc())
        )

    def messages_select(self) -> sa.Select:
        """Messages this user sent or received, newest first."""
        mine = sa.or_(Message.sender_id == self.id, Message.recipient_id == self.id)
        return sa.select(Message).where(mine).order_by(Message.id.desc())

    def notifications_select(self, unread_only: bool = False) -> sa.Select:
        """This user's notifications (only the unread ones, if asked), newest first."""
        query = sa.select(Notification).where(Notification.user_id == self.id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        return query.order_by(Notification.id.desc())

    def timeline_select(self) -> sa.Select:
        """Posts by this user or anyone they follow, as ``Post.visible_to`` lets them see, newest first."""
        # One IN list of authors (me included), not "me OR IN (...)": with the OR, PostgreSQL cannot
        # use the per-author index and walks the whole table newest first.
        # The rule's list filter (Post.left_out_authors: people this user blocked) is applied inside
        # that small list (blocking also ends the follow, so this is a safeguard), which keeps the
        # outer query's shape and plan unchanged.
        authors = sa.select(followers.c.followed_id).where(
            followers.c.follower_id == self.id, followers.c.followed_id.not_in(Post.left_out_authors(self))
        )
        authors = authors.union_all(sa.select(sa.literal(self.id)))
        # The rest of the rule is a row filter on that same walk (its columns are all in the index):
        # no other table, no change of plan.
        return Post.newest_first(sa.select(Post).where(Post.user_id.in_(authors), Post.visible_to(self)))


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


# Usernames are unique without regard to case (an expression index works on SQLite and PostgreSQL).
sa.Index("uq_user_username_lower", sa.func.lower(User.username), unique=True)


def user_by_username_select(username: str) -> sa.Select:
    """The user with this name, ignoring case."""
    return sa.select(User).where(sa.func.lower(User.username) == username.lower())


class Token(db.Model):
    """An API bearer token. Only its SHA-256 is stored, so a database leak reveals no usable token."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User] = so.relationship()

    def __repr__(self) -> str:
        return f"<Token {self.id} of user {self.user_id}>"


OUTBOX_PENDING = "pending"
OUTBOX_SENDING = "sending"
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"


class OutboxMessage(db.Model):
    """An email waiting to be delivered, written in the same transaction as the action behind it."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient: so.Mapped[str] = so.mapped_column(sa.String(EMAIL_MAX))
    subject: so.Mapped[str] = so.mapped_column(sa.String(255))
    text_body: so.Mapped[str] = so.mapped_column(sa.Text)
    html_body: so.Mapped[str] = so.mapped_column(sa.Text)
    # Extra headers as JSON text, e.g. List-Unsubscribe.
    headers: so.Mapped[str | None] = so.mapped_column(sa.Text)
    attachment_path: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    attachment_name: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    attachment_type: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=OUTBOX_PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.status} to {self.recipient}>"


TASK_QUEUED = "queued"
TASK_RUNNING = "running"
TASK_DONE = "done"
TASK_FAILED = "failed"


class Task(db.Model):
    """A long background job a user started, with its progress and result, for the progress bar."""

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    description: so.Mapped[str] = so.mapped_column(sa.String(255))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=TASK_QUEUED)
    progress: so.Mapped[int] = so.mapped_column(default=0)
    # Where the result is (a file name in the exports folder), once done.
    result: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    error: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Written by the job while it runs: a running task whose heartbeat stops belonged to a worker
    # that died (services/exports.py marks it failed).
    heartbeat_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User] = so.relationship()

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name} {self.status} {self.progress}%>"


# The database's ceiling for a private message; MESSAGE_MAX_LENGTH (config) must not exceed it.
MESSAGE_BODY_CEILING = 2000


class Message(db.Model):
    """A private message from one user to another: plain text, shown escaped with its links."""

    __table_args__ = (
        sa.CheckConstraint(f"length(body) BETWEEN 1 AND {MESSAGE_BODY_CEILING}", name="body_length"),
        sa.CheckConstraint("sender_id <> recipient_id", name="not_self"),
        # A conversation is read from both ends: what I sent to X, and what X sent to me.
        sa.Index("ix_message_sender_id_recipient_id_id", "sender_id", "recipient_id", "id"),
        sa.Index("ix_message_recipient_id_sender_id_id", "recipient_id", "sender_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sender_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    body: so.Mapped[str] = so.mapped_column(sa.String(MESSAGE_BODY_CEILING))
    timestamp: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # When the recipient opened the conversation after it arrived.
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    sender: so.Mapped[User] = so.relationship(foreign_keys=[sender_id], lazy="joined", innerjoin=True)
    recipient: so.Mapped[User] = so.relationship(foreign_keys=[recipient_id], lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Message {self.id} from {self.sender_id} to {self.recipient_id}>"

    def other_party(self, user: User) -> User:
        """The person ``user`` is talking to in this message."""
        return self.recipient if self.sender_id == user.id else self.sender


NOTIFY_MESSAGE = "message"
NOTIFY_NEW_FOLLOWER = "new_follower"
NOTIFY_MENTION = "mention"
# A report the user made was handled (payload: report_id, status, target).
NOTIFY_REPORT = "report_outcome"
NOTIFICATION_KINDS = (NOTIFY_MESSAGE, NOTIFY_NEW_FOLLOWER, NOTIFY_MENTION, NOTIFY_REPORT)


class Notification(db.Model):
    """Something that happened to a user (a message, a follower, a mention), unread until they look."""

    __table_args__ = (
        # The navbar's unread count, asked by every open tab: an index-only range.
        sa.Index("ix_notification_user_id_read_at", "user_id", "read_at"),
        # The notifications page: newest first.
        sa.Index("ix_notification_user_id_id", "user_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    # Who caused it (the sender, the follower), when someone did.
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    # Details by kind, e.g. {"message_id": 7}; small and never queried.
    payload: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # When an email went out about it (new messages to someone who has been away).
    emailed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} for {self.user_id}>"


class Block(db.Model):
    """``blocker`` does not want to hear from ``blocked``: no messages or follows, no posts in timelines."""

    __table_args__ = (
        sa.CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        # "Has X blocked me?" from the other side; the primary key serves "whom did I block".
        sa.Index("ix_block_blocked_id_blocker_id", "blocked_id", "blocker_id"),
    )

    blocker_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Block {self.blocker_id} blocks {self.blocked_id}>"


class UserActivity(db.Model):
    """A day (UTC) on which someone used the site: the "active users per day" chart counts these rows.

    At most one row per user and day, added when the day's first request updates ``last_seen``.
    """

    __tablename__ = "user_activity"
    __table_args__ = (sa.Index("ix_user_activity_day", "day"),)

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)

    user: so.Mapped[User] = so.relationship()

    def __repr__(self) -> str:
        return f"<UserActivity {self.user_id} on {self.day}>"


class AuditLogEntry(db.Model):
    """One moderation action: who did what to which post or account, when and why. Never changed.

    The names are copied, so an entry still reads right after the people or posts it names are gone.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_target_type_target_id", "target_type", "target_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # None for the command line (flask users ...), or once the moderator's account is deleted.
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    actor_name: so.Mapped[str | None] = so.mapped_column(sa.String(USERNAME_MAX))
    # What was done, e.g. post.hide, user.suspend, user.role, report.dismiss (see services.moderation).
    action: so.Mapped[str] = so.mapped_column(sa.String(32))
    target_type: so.Mapped[str] = so.mapped_column(sa.String(16))
    target_id: so.Mapped[int | None] = so.mapped_column()
    target_label: so.Mapped[str] = so.mapped_column(sa.String(255))
    # Extra facts about the change, e.g. "user -> moderator".
    details: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(REASON_MAX))

    def __repr__(self) -> str:
        return f"<AuditLogEntry {self.id} {self.action} {self.target_type} {self.target_id}>"


@sa.event.listens_for(AuditLogEntry, "before_update")
@sa.event.listens_for(AuditLogEntry, "before_delete")
def _audit_log_is_append_only(_mapper, _connection, entry: AuditLogEntry) -> None:
    raise TypeError(f"{entry!r}: the audit log is append-only")


REPORT_OPEN = "open"
REPORT_RESOLVED = "resolved"
REPORT_DISMISSED = "dismissed"
REPORT_STATUSES = (REPORT_OPEN, REPORT_RESOLVED, REPORT_DISMISSED)
REPORT_POST = "post"
REPORT_USER = "user"


class Report(db.Model):
    """Someone asked the moderators to look at a post or an account.

    ``user_id`` is the account reported, or the author of the post reported; ``target_label`` keeps
    what was reported readable after it is deleted.
    """

    __table_args__ = (
        # The moderators' queue: one status, oldest first.
        sa.Index("ix_report_status_id", "status", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    reporter_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    post_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="SET NULL"), index=True
    )
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    # REPORT_POST or REPORT_USER: what was reported (it stays known after the post is deleted).
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    target_label: so.Mapped[str] = so.mapped_column(sa.String(255))
    reason: so.Mapped[str] = so.mapped_column(sa.String(REASON_MAX))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=REPORT_OPEN)
    handled_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    handled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # What the moderator told the reporter.
    note: so.Mapped[str | None] = so.mapped_column(sa.String(REASON_MAX))

    reporter: so.Mapped[User | None] = so.relationship(foreign_keys=[reporter_id])
    post: so.Mapped[Post | None] = so.relationship()
    user: so.Mapped[User | None] = so.relationship(foreign_keys=[user_id])
    handled_by: so.Mapped[User | None] = so.relationship(foreign_keys=[handled_by_id])

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.status} post={self.post_id} user={self.user_id}>"

    @staticmethod
    def queue_select(status: str = REPORT_OPEN) -> sa.Select:
        """Reports with this status, oldest first (open ones are worked through in order)."""
        order = Report.id.asc() if status == REPORT_OPEN else Report.id.desc()
        return (
            sa.select(Report)
            .where(Report.status == status)
            .options(so.joinedload(Report.reporter), so.joinedload(Report.user), so.joinedload(Report.post))
            .order_by(order)
        )
