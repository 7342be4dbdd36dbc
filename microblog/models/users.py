"""Accounts: the user, who follows and who blocks whom, activity days, and the queries about one user."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from microblog import fulltext, passwords
from microblog.extensions import db
from microblog.models.follows import Block, Mute, followers
from microblog.models.limits import EMAIL_MAX, HANDLE_MAX, REASON_MAX, USERNAME_MAX
from microblog.models.media import MEDIA_KEY_MAX
from microblog.models.messaging import Message, Notification
from microblog.models.posts import Post, ViewerRef
from microblog.models.roles import ROLE_PERMISSIONS, ROLE_RANK, Permission, Role
from microblog.timeutil import UTCDateTime, utcnow

ABOUT_ME_MAX = 500
# The colour themes a person can pick: "auto" follows the device (prefers-color-scheme).
THEMES = ("auto", "light", "dark")

class User(UserMixin, db.Model):
    """An account. Usernames keep their case for display but are unique without regard to it."""

    # Full-text search of names and about-me with SEARCH_BACKEND=postgres (PostgreSQL only).
    __table_args__ = (*fulltext.gin_indexes("user"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(HANDLE_MAX))
    # Stored lower-cased by the accounts service, so the plain unique constraint is case-blind.
    email: so.Mapped[str] = so.mapped_column(sa.String(EMAIL_MAX), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    about_me: so.Mapped[str | None] = so.mapped_column(sa.String(ABOUT_ME_MAX))
    # The uploaded profile picture and header image (storage keys, "m/..."); None: the identicon, no header.
    avatar_key: so.Mapped[str | None] = so.mapped_column(sa.String(MEDIA_KEY_MAX))
    header_key: so.Mapped[str | None] = so.mapped_column(sa.String(MEDIA_KEY_MAX))
    # A Role, read back as its plain str value (equal to the member). The server default is DDL
    # text, so it gets the plain value too.
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default=Role.USER, server_default=Role.USER.value)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_seen: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # None until the address is confirmed (when the site asks for confirmation).
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    notify_new_follower: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # Email about a new private message when the recipient has been away (MESSAGE_EMAIL_AFTER_MINUTES).
    notify_new_message: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # Email about a mention or a reply when away, as for messages.
    notify_mention: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    notify_reply: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # The visibility the post form starts with (a Visibility value).
    default_visibility: so.Mapped[str] = so.mapped_column(
        sa.String(16), default="public", server_default="public"
    )
    # Preferred language (a code from LANGUAGES) and IANA time zone; None means "from the browser".
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # The colour theme of the pages (one of THEMES).
    theme: so.Mapped[str] = so.mapped_column(
        sa.String(8), sa.CheckConstraint("theme IN ('auto', 'light', 'dark')", name="theme"),
        default="auto", server_default="auto",
    )
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
    # Two-factor sign-in (services/two_factor.py). The TOTP secret is stored as generated (base32) and
    # shown only while enrolment is pending; it counts once ``totp_enabled_at`` is set. The last time
    # step a code was accepted for makes each code single-use. Bumping ``two_factor_nonce`` (2FA turned
    # on or off, password changed or reset) ends every "remember this device" cookie of the account.
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    totp_enabled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    two_factor_nonce: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Passkeys (services/passkeys.py): the random handle authenticators keep as the account's WebAuthn
    # user id, made at the first passkey (never the numeric id, which would tell how old the account is).
    webauthn_user_handle: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary(64), index=True,
                                                                      unique=True)
    # Deactivated by its owner (services/account_deletion.py): the profile and posts are hidden from
    # everyone else until the owner signs in again. Set during a deletion's grace period too.
    deactivated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), index=True)
    # A deletion the owner asked for: due then, cancelled by signing in before. Once the deletion job
    # has started (``deletion_started_at``) it can no longer be cancelled; ``deletion_lease_until``
    # is how long the worker running it holds it (a killed worker's lease runs out, another resumes).
    deletion_due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), index=True)
    deletion_started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    deletion_lease_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Follows wait for the owner's approval (ActivityPub's manuallyApprovesFollowers): FollowRequest rows.
    locked: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # -- federation (models/federation.py). A local account has ``domain`` None and a key pair made at
    # sign-up (the private key never leaves the server). A remote account is a row too: its username
    # is "name@domain", it has no password or address (a reserved .invalid one), and what its server
    # published about it: the actor's id, inboxes, public key, profile link and picture.
    domain: so.Mapped[str | None] = so.mapped_column(sa.String(255), index=True)
    actor_uri: so.Mapped[str | None] = so.mapped_column(sa.String(2048), index=True, unique=True)
    inbox_url: so.Mapped[str | None] = so.mapped_column(sa.String(2048))
    shared_inbox_url: so.Mapped[str | None] = so.mapped_column(sa.String(2048))
    followers_url: so.Mapped[str | None] = so.mapped_column(sa.String(2048))
    profile_url: so.Mapped[str | None] = so.mapped_column(sa.String(2048))
    avatar_url: so.Mapped[str | None] = so.mapped_column(sa.String(2048))
    display_name: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    key_id: so.Mapped[str | None] = so.mapped_column(sa.String(2048), index=True, unique=True)
    public_key_pem: so.Mapped[str | None] = so.mapped_column(sa.Text)
    private_key_pem: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # When the remote actor was last fetched (refreshed when older than a day, or on a failed signature).
    fetched_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Account migration (Move): where this account moved to (an id, no foreign key: an account that is
    # gone reads as no move), and the other accounts it says it is.
    moved_to_id: so.Mapped[int | None] = so.mapped_column()
    also_known_as: so.Mapped[str | None] = so.mapped_column(sa.Text)  # JSON list of actor URIs

    posts: so.WriteOnlyMapped[Post] = so.relationship(
        back_populates="author", passive_deletes=True, foreign_keys="Post.user_id"
    )
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

    @property
    def is_remote(self) -> bool:
        """An account of another server, known here through federation."""
        return self.domain is not None

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and remember-me cookies (see sessions.py):
        ``"<id>:<session version>:<session key>"``, the key being this browser's signed-in session
        (set on the object by sessions.py when it signs in or loads the account; none on older cookies)."""
        key = getattr(self, "session_key", None)
        base = f"{self.id}:{self.session_version or 0}"
        return f"{base}:{key}" if key else base

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
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_staff(self) -> bool:
        """A moderator or an administrator."""
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_deactivated(self) -> bool:
        return self.deactivated_at is not None

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

    def posts_select(self, viewer: User | None = None, *, viewer_follows: bool = False) -> sa.Select:
        """This user's posts that ``viewer`` may see (``Post.visible_to``), newest first.

        ``viewer_follows``: the caller knows ``viewer`` follows this user (or is this user), so every
        post is addressed to them and the rule's audience test is skipped."""
        checked = viewer_follows or (viewer is not None and viewer.id == self.id)
        return Post.newest_first(sa.select(Post).where(
            Post.user_id == self.id, Post.visible_to(viewer, audience_checked=checked)))

    def muted_ids_select(self) -> sa.Select:
        """Ids of the people this user muted."""
        return sa.select(Mute.muted_id).where(Mute.muter_id == self.id)

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
        return User.timeline_select_for(self)

    @staticmethod
    def timeline_select_for(viewer: User | ViewerRef) -> sa.Select:
        """``timeline_select`` of ``viewer``, who may be a ``ViewerRef`` (for a statement built once)."""
        # One IN list of authors (me included), not "me OR IN (...)": with the OR, PostgreSQL cannot
        # use the per-author index and walks the whole table newest first.
        # The rule's list filter (Post.left_out_authors: people this user blocked or muted) is applied
        # inside that small list (blocking also ends the follow, so this is a safeguard), which keeps
        # the outer query's shape and plan unchanged.
        left_out = Post.left_out_authors(viewer)
        authors = sa.select(followers.c.followed_id).where(
            followers.c.follower_id == viewer.id, followers.c.followed_id.not_in(left_out)
        )
        me = sa.literal(viewer.id) if isinstance(viewer, User) else viewer.id
        authors = authors.union_all(sa.select(me))
        # The rest of the rule is a row filter on that same walk (its columns are all in the index):
        # no other table, no change of plan. The authors are this user and the people they follow:
        # every post of theirs is addressed to this user, so the audience test is skipped.
        return Post.newest_first(
            sa.select(Post).where(Post.user_id.in_(authors), Post.visible_to(viewer, audience_checked=True))
        )


# "Replying to @name" on a reply's card: the parent's author's name, read with every post (one lookup
# by primary key per reply) instead of a second, joined User of twenty columns per post.
Post.in_reply_to_username = so.column_property(
    sa.select(User.username).where(User.id == Post.in_reply_to_user_id)
    .correlate_except(User).scalar_subquery()
)


# Usernames are unique without regard to case (an expression index works on SQLite and PostgreSQL).
sa.Index("uq_user_username_lower", sa.func.lower(User.username), unique=True)


def user_by_username_select(username: str) -> sa.Select:
    """The user with this name, ignoring case."""
    return sa.select(User).where(sa.func.lower(User.username) == username.lower())


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


class ReservedUsername(db.Model):
    """A name nobody may take: a deleted account's, so nobody can pose as its former owner.

    ``name`` is stored lower-cased; registration and renaming check it (services.accounts)."""

    __tablename__ = "reserved_username"

    name: so.Mapped[str] = so.mapped_column(sa.String(USERNAME_MAX), primary_key=True)
    # Why it is reserved, e.g. "deleted".
    reason: so.Mapped[str] = so.mapped_column(sa.String(32))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<ReservedUsername {self.name}>"
