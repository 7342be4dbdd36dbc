"""Leaving: deactivating one's account, asking for its deletion after a grace period, and the job that
deletes it in committed batches (resumable after a crash), then reserves its name.

A deactivated account (``user.deactivated_at``) is hidden from everyone else: its profile answers 404
and its posts drop out of every list and lookup (``Post.visible_to``). Signing in again undoes both
a deactivation and a scheduled deletion (``restore_on_sign_in``). Once a deletion is due, the periodic
sweep hands the account to a worker under a lease; a worker that dies leaves the lease to run out
and the next sweep hands it on, and every batch deletes whatever is left, so doing one twice is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import jobs, mail, search
from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.federation import delivery, outgoing
from microblog.logs import security_event
from microblog.models import (
    Announce,
    Block,
    Bookmark,
    Like,
    Media,
    Mention,
    Message,
    Mute,
    Notification,
    Post,
    RecoveryCode,
    ReservedUsername,
    Task,
    Token,
    User,
    UserActivity,
    followers,
)
from microblog.services import (
    api_tokens,
    audit,
    counters,
    export_writers,
    media_files,
    oauth,
    two_factor,
    user_sessions,
)
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

RESERVED_DELETED = "deleted"
QUIET = {"synchronize_session": False}
# How many due accounts one sweep hands out.
SWEEP_LIMIT = 100
# The account's last activities (its Delete to other servers) need its key: its row waits for them
# this long at most.
DELIVERIES_WAIT = timedelta(days=1)
# What signing in undid (restore_on_sign_in), for the page to say so.
REACTIVATED = "reactivated"
DELETION_CANCELLED = "deletion_cancelled"


# -- asking -------------------------------------------------------------------------------------
def _check_credentials(user: User, password: str | None, code: str | None, event: str) -> None:
    """The password, and a two-factor code when the account has two-factor sign-in.

    :raises ValidationError: either is wrong (on the field at fault).
    """
    if not user.check_password(password or ""):
        security_event(event, logging.WARNING, user_id=user.id, reason="wrong_password")
        raise ValidationError(_("Your password is not correct."), field="password")
    if user.two_factor_enabled and two_factor.verify_code(user, code) is None:
        security_event(event, logging.WARNING, user_id=user.id, reason="wrong_code")
        raise ValidationError(two_factor.invalid_code_message(), field="code")


def _sign_out_everywhere(user: User) -> None:
    """Every session, remembered device, API token and app token of ``user`` stops working (caller
    commits)."""
    user_sessions.end_all_sessions(user)
    two_factor.forget_devices(user)
    api_tokens.revoke_all_tokens(user)
    oauth.revoke_all_for_user(user)


def deactivate_account(user: User, password: str | None, code: str | None = None) -> None:
    """Hide the account and its posts from everyone else and sign it out everywhere; signing in again
    brings it back.

    :raises ValidationError: the password or the two-factor code is wrong.
    """
    _check_credentials(user, password, code, "account.deactivate_refused")
    if user.deactivated_at is None:
        user.deactivated_at = utcnow()
    _sign_out_everywhere(user)
    audit.record(user, audit.ACCOUNT_DEACTIVATE, user)
    db.session.commit()
    security_event("account.deactivated", user_id=user.id)


def schedule_deletion(user: User, password: str | None, code: str | None = None) -> datetime:
    """Delete the account after ACCOUNT_DELETION_GRACE_DAYS: until then it is deactivated and signing
    in cancels the deletion. Signs it out everywhere and mails the owner the date. Returns that date.

    :raises ValidationError: the password or the two-factor code is wrong.
    """
    _check_credentials(user, password, code, "account.delete_refused")
    now = utcnow()
    if user.deletion_due_at is None:
        user.deletion_due_at = now + timedelta(days=current_app.config["ACCOUNT_DELETION_GRACE_DAYS"])
    if user.deactivated_at is None:
        user.deactivated_at = now
    _sign_out_everywhere(user)
    audit.record(user, audit.ACCOUNT_DELETE_SCHEDULED, user,
                 details=f"due {user.deletion_due_at.date().isoformat()}")
    _mail(user, _l("Your account will be deleted"), "account_deletion_scheduled", due=user.deletion_due_at)
    security_event("account.deletion_scheduled", user_id=user.id)
    return user.deletion_due_at


def restore_on_sign_in(user: User) -> str | None:
    """After a complete sign-in: undo a deactivation, or cancel a scheduled deletion (with a notice by
    mail). Returns what was undone (REACTIVATED, DELETION_CANCELLED) or None."""
    if user.deactivated_at is None and user.deletion_due_at is None:
        return None  # the usual case: nothing to read or write
    if user.deletion_due_at is not None:
        user.deletion_due_at = None
        user.deactivated_at = None
        audit.record(user, audit.ACCOUNT_DELETE_CANCELLED, user)
        _mail(user, _l("Your account will not be deleted"), "account_deletion_cancelled")
        security_event("account.deletion_cancelled", user_id=user.id)
        return DELETION_CANCELLED
    user.deactivated_at = None
    audit.record(user, audit.ACCOUNT_REACTIVATE, user)
    db.session.commit()
    security_event("account.reactivated", user_id=user.id)
    return REACTIVATED


def being_deleted(user: User) -> bool:
    """The deletion job has started: the account can no longer sign in, nor be saved."""
    return user.deletion_started_at is not None


def _mail(user: User, subject: Any, template: str, **context: Any) -> None:
    message = mail.queue_email(user.email, subject, template, locale=user.locale, user=user,
                               url=external_url("auth.login"), **context)
    db.session.commit()
    mail.dispatch(message)


# -- reserved names -----------------------------------------------------------------------------
def username_reserved(username: str) -> bool:
    """True when nobody may take this name (a deleted account had it), ignoring case."""
    return db.session.get(ReservedUsername, username.strip().lower()) is not None


# -- the sweep and the job ----------------------------------------------------------------------
def _lease_until() -> datetime:
    return utcnow() + timedelta(seconds=current_app.config["ACCOUNT_DELETION_LEASE_SECONDS"])


@jobs.periodic
def sweep_due_deletions() -> int:
    """Hand every account whose deletion is due, and that no live worker holds, to a deletion job.
    Returns how many were handed out."""
    now = utcnow()
    free = sa.or_(User.deletion_lease_until.is_(None), User.deletion_lease_until < now)
    due = sa.select(User.id).where(User.deletion_due_at <= now, free).order_by(User.id).limit(SWEEP_LIMIT)
    handed = 0
    for user_id in list(db.session.scalars(due)):
        # Taken only if still free: two workers sweeping at once hand each account out once.
        claim = (sa.update(User).where(User.id == user_id, User.deletion_due_at <= now, free)
                 .values(deletion_lease_until=_lease_until(),
                         deletion_started_at=sa.func.coalesce(User.deletion_started_at, now)))
        taken = getattr(db.session.execute(claim, execution_options=QUIET), "rowcount", 0)
        db.session.commit()
        if taken:
            jobs.enqueue(delete_account, user_id)
            handed += 1
    return handed


@jobs.task
def delete_account(user_id: int) -> bool:
    """Job: delete everything of a due account, a committed batch at a time, then the account itself.
    Returns True when the account is gone (or was already)."""
    user = db.session.get(User, user_id)
    if user is None:
        return True
    if user.deletion_due_at is None or user.deletion_due_at > utcnow():
        return False  # cancelled, or not yet due
    if user.deletion_started_at is None:
        user.deletion_started_at = utcnow()
    inboxes = outgoing.follower_inboxes(user_id)  # read before the follows go
    db.session.commit()
    outgoing.account_deleted(user_id, inboxes)
    _delete_contents(user)
    if delivery.pending_for(user_id, since=utcnow() - DELIVERIES_WAIT):
        db.session.commit()
        return False  # signed with its key: the row stays until they are sent (the sweep comes back)
    _delete_user_row(user)
    return True


def delete_remote_account(user: User) -> None:
    """A remote account its server deleted (ActivityPub ``Delete`` of the actor): everything of it,
    with the counts of the people it followed or who followed it and of the posts it reacted to,
    then the row. Its name is not reserved (names of other servers are not ours to keep)."""
    user_id = user.id
    _delete_contents(user)
    db.session.delete(user)
    db.session.commit()
    if search.backend().needs_indexing:
        search.index_users(user_id)


def _delete_contents(user: User) -> None:
    """Everything of the account but its row, a committed batch at a time."""
    size = max(1, int(current_app.config["ACCOUNT_DELETION_BATCH_SIZE"]))
    for step in _steps(user.id):
        while True:
            user.deletion_lease_until = _lease_until()
            after: list[Callable[[], Any]] = []
            removed = step(size, after)
            db.session.commit()
            for action in after:  # the index and the files, once the batch is committed
                action()
            if removed < size:
                break


Step = Callable[[int, list[Callable[[], Any]]], int]


def _steps(user_id: int) -> list[Step]:
    """The batches, in order: each removes at most ``size`` rows, adds what must follow the commit to
    ``after``, and returns how many rows it removed."""
    mine: list[tuple[type[Like] | type[Announce], sa.ColumnElement[bool]]] = [
        (Like, Like.user_id == user_id), (Announce, Announce.user_id == user_id),
    ]
    rows: list[tuple[Any, sa.ColumnElement[bool]]] = [
        (Bookmark, Bookmark.user_id == user_id),
        (Message, sa.or_(Message.sender_id == user_id, Message.recipient_id == user_id)),
        (Notification, sa.or_(Notification.user_id == user_id, Notification.actor_id == user_id)),
        (Mention, Mention.user_id == user_id),
        (Block, sa.or_(Block.blocker_id == user_id, Block.blocked_id == user_id)),
        (Mute, sa.or_(Mute.muter_id == user_id, Mute.muted_id == user_id)),
        (Token, Token.user_id == user_id),
        (RecoveryCode, RecoveryCode.user_id == user_id),
        (UserActivity, UserActivity.user_id == user_id),
    ]
    return [
        lambda size, after: _delete_posts(user_id, size, after),
        *[_reaction_step(model, where) for model, where in mine],
        lambda size, _after: _delete_follows(user_id, size),
        *[_rows_step(model, where) for model, where in rows],
        lambda size, after: _delete_uploads(user_id, size, after),
        lambda size, _after: _delete_tasks(user_id, size),
    ]


def _primary_key(model: Any) -> list[sa.Column]:
    return list(sa.inspect(model).primary_key)


def _rows_step(model: Any, where: sa.ColumnElement[bool]) -> Step:
    """Delete up to ``size`` rows of ``model`` matching ``where`` (by primary key: works on every table)."""
    def step(size: int, _after: list[Callable[[], Any]]) -> int:
        key = _primary_key(model)
        found = list(db.session.execute(sa.select(*key).where(where).limit(size)))
        if found:
            if len(key) == 1:
                matching = key[0].in_([row[0] for row in found])
            else:
                matching = sa.tuple_(*key).in_([tuple(row) for row in found])
            db.session.execute(sa.delete(model).where(matching), execution_options=QUIET)
        return len(found)
    return step


def _reaction_step(model: type[Like] | type[Announce], where: sa.ColumnElement[bool]) -> Step:
    """Likes or reposts the account made: the counts on the (other people's) posts go down with them."""
    count = Post.like_count if model is Like else Post.repost_count

    def step(size: int, _after: list[Callable[[], Any]]) -> int:
        found = list(db.session.execute(sa.select(model.id, model.post_id).where(where).limit(size)))
        if found:
            db.session.execute(sa.delete(model).where(model.id.in_([row.id for row in found])),
                               execution_options=QUIET)
            # One reaction per person and post, so each post loses exactly one.
            db.session.execute(
                sa.update(Post).where(Post.id.in_([row.post_id for row in found]), count > 0)
                .values({count: count - 1}), execution_options=QUIET)
        return len(found)
    return step


def _delete_posts(user_id: int, size: int, after: list[Callable[[], Any]]) -> int:
    """A batch of the account's posts, with their images' files, their index entries and the reply
    counts of the other posts they answered."""
    found = list(db.session.execute(
        sa.select(Post.id, Post.in_reply_to_id, Post.media_count).where(Post.user_id == user_id).limit(size)))
    if not found:
        return 0
    ids = [row.id for row in found]
    media_files.discard_post_media(ids)
    db.session.execute(sa.delete(Post).where(Post.id.in_(ids)), execution_options=QUIET)
    parents: dict[int, int] = {}
    for row in found:
        if row.in_reply_to_id is not None and row.in_reply_to_id not in ids:
            parents[row.in_reply_to_id] = parents.get(row.in_reply_to_id, 0) + 1
    for parent_id, replies in parents.items():
        db.session.execute(
            sa.update(Post).where(Post.id == parent_id, Post.user_id != user_id)
            .values(reply_count=sa.case((Post.reply_count >= replies, Post.reply_count - replies), else_=0)),
            execution_options=QUIET)
    counters.posts_added(user_id, -len(ids))
    # Done here, not queued: this is a background job already, and dozens of small jobs queued ahead of
    # a resumed deletion would only delay it. Both are idempotent (a batch redone after a crash
    # syncs ids that are already gone).
    if any(row.media_count for row in found):
        after.append(media_files.delete_files)
    if search.backend().needs_indexing:
        after.append(lambda: search.index_posts(*ids))
    return len(ids)


def _delete_follows(user_id: int, size: int) -> int:
    """A batch of follows, both ways; the other accounts' follower and following counts are recounted."""
    theirs = sa.or_(followers.c.follower_id == user_id, followers.c.followed_id == user_id)
    pairs = list(db.session.execute(
        sa.select(followers.c.follower_id, followers.c.followed_id).where(theirs).limit(size)))
    if pairs:
        db.session.execute(sa.delete(followers).where(
            sa.tuple_(followers.c.follower_id, followers.c.followed_id).in_([tuple(p) for p in pairs])))
        others = {other for pair in pairs for other in pair} - {user_id}
        counters.recount(others)
    return len(pairs)


def _delete_uploads(user_id: int, size: int, after: list[Callable[[], Any]]) -> int:
    """Images the account uploaded and never attached (attached ones went with their posts)."""
    rows = list(db.session.scalars(sa.select(Media).where(Media.user_id == user_id).limit(size)))
    if rows:
        media_files.discard_keys(key for media in rows for key in media.keys())
        db.session.execute(sa.delete(Media).where(Media.id.in_([media.id for media in rows])),
                           execution_options=QUIET)
        after.append(media_files.delete_files)
    return len(rows)


def _delete_tasks(user_id: int, size: int) -> int:
    """The account's background tasks, and the export files they left."""
    rows = list(db.session.scalars(sa.select(Task).where(Task.user_id == user_id).limit(size)))
    for task in rows:
        path = export_writers.finished_file(task)
        if path is not None:
            path.unlink(missing_ok=True)
    if rows:
        db.session.execute(sa.delete(Task).where(Task.id.in_([task.id for task in rows])),
                           execution_options=QUIET)
    return len(rows)


def _delete_user_row(user: User) -> None:
    """The last step: the profile pictures, the name reserved, an audit entry that names nobody,
    and the row itself."""
    user_id = user.id
    name = user.username.lower()
    media_files.discard_keys([user.avatar_key, user.header_key])
    if db.session.get(ReservedUsername, name) is None:
        db.session.add(ReservedUsername(name=name, reason=RESERVED_DELETED))
    audit.record(None, audit.ACCOUNT_DELETED, None, target_type="user", target_id=user_id,
                 label=f"#{user_id}")
    db.session.delete(user)
    db.session.commit()
    media_files.queue_deletions()
    if search.backend().needs_indexing:
        search.index_users(user_id)
    security_event("account.deleted", user_id=user_id)
