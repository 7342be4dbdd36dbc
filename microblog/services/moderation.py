"""Moderation rules: hide, show again and delete anyone's post or its images; suspend and delete accounts.

Every action is checked with ``roles.require``, written to the audit log in the same transaction,
and closes the open reports it answers (their reporters are told).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog import search
from microblog.exceptions import PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.models import ID_MAX, REPORT_RESOLVED, Media, Message, Permission, Post, User, followers
from microblog.services import audit, counters, media_files, reports, roles
from microblog.timeutil import utcnow


def get_post(post_id: int) -> Post | None:
    """The post with this id, hidden or not, or None."""
    return db.session.get(Post, post_id) if 0 < post_id <= ID_MAX else None


def hide_post(moderator: User, post: Post, reason: str) -> Post:
    """Hide a post from everyone but its author and the moderators (hiding twice changes nothing).

    :raises PermissionDenied: ``moderator`` may not moderate posts.
    :raises ValidationError: no reason, or an overlong one.
    """
    roles.require(moderator, Permission.MODERATE_POSTS)
    reason = audit.clean_reason(reason)
    if post.hidden_at is None:
        post.hidden_at = utcnow()
        audit.record(moderator, audit.POST_HIDE, post, reason=reason)
        reports.close(moderator, reports.open_reports_about(post_ids=[post.id]), REPORT_RESOLVED)
        db.session.commit()
    return post


def unhide_post(moderator: User, post: Post, reason: str | None = None) -> Post:
    """Show a hidden post again.

    :raises PermissionDenied: ``moderator`` may not moderate posts.
    """
    roles.require(moderator, Permission.MODERATE_POSTS)
    reason = audit.clean_reason(reason, required=False)
    if post.hidden_at is not None:
        post.hidden_at = None
        audit.record(moderator, audit.POST_UNHIDE, post, reason=reason)
        db.session.commit()
    return post


def _images_of(post: Post) -> list[Media]:
    return list(db.session.scalars(sa.select(Media).where(Media.post_id == post.id).order_by(Media.position)))


def hide_media(moderator: User, post: Post, reason: str) -> Post:
    """Replace a post's images by a notice for everyone but the moderators; the text stays (hiding twice
    changes nothing). The files stay too: showing them again is one click.

    :raises PermissionDenied: ``moderator`` may not moderate posts.
    :raises ValidationError: no reason, or an overlong one; or the post has no images.
    """
    roles.require(moderator, Permission.MODERATE_POSTS)
    reason = audit.clean_reason(reason)
    images = _images_of(post)
    if not images:
        raise ValidationError(_("This post has no images."))
    shown = [item for item in images if item.hidden_at is None]
    if shown:
        now = utcnow()
        for item in shown:
            item.hidden_at = now
        audit.record(moderator, audit.MEDIA_HIDE, post, reason=reason, details=_image_ids(shown))
        reports.close(moderator, reports.open_reports_about(post_ids=[post.id]), REPORT_RESOLVED)
        db.session.commit()
    return post


def unhide_media(moderator: User, post: Post, reason: str | None = None) -> Post:
    """Show a post's hidden images again.

    :raises PermissionDenied: ``moderator`` may not moderate posts.
    """
    roles.require(moderator, Permission.MODERATE_POSTS)
    reason = audit.clean_reason(reason, required=False)
    hidden = [item for item in _images_of(post) if item.hidden_at is not None]
    if hidden:
        for item in hidden:
            item.hidden_at = None
        audit.record(moderator, audit.MEDIA_UNHIDE, post, reason=reason, details=_image_ids(hidden))
        db.session.commit()
    return post


def _image_ids(images: list[Media]) -> str:
    return "images " + ", ".join(str(item.id) for item in images)


def delete_post(moderator: User, post: Post, reason: str) -> None:
    """Delete anyone's post.

    :raises PermissionDenied: ``moderator`` may not moderate posts.
    :raises ValidationError: no reason, or an overlong one.
    """
    roles.require(moderator, Permission.MODERATE_POSTS)
    reason = audit.clean_reason(reason)
    post_id = post.id
    audit.record(moderator, audit.POST_DELETE, post, reason=reason)
    reports.close(moderator, reports.open_reports_about(post_ids=[post_id]), REPORT_RESOLVED)
    media_files.discard_post_media([post_id])
    db.session.delete(post)
    counters.posts_added(post.user_id, -1)
    db.session.commit()
    media_files.queue_deletions()
    search.queue_posts(post_id)


def _check_can_act_on(moderator: User, user: User, permission: Permission) -> None:
    roles.require(moderator, permission)
    if moderator.id == user.id:
        raise ValidationError(_("You cannot do that to your own account."))
    if not moderator.outranks(user):
        raise PermissionDenied(_("You can only act on accounts whose role is below yours."))


def suspend_user(moderator: User, user: User, reason: str) -> User:
    """Suspend an account: it can still sign in and out, read and export its data, but change nothing.

    :raises PermissionDenied: ``moderator`` may not suspend, or ``user``'s role is not below theirs.
    :raises ValidationError: yourself, or no reason.
    """
    _check_can_act_on(moderator, user, Permission.SUSPEND_USERS)
    reason = audit.clean_reason(reason)
    if user.suspended_at is None:
        user.suspended_at = utcnow()
        user.suspension_reason = reason
        audit.record(moderator, audit.USER_SUSPEND, user, reason=reason)
        about_account = reports.open_reports_about(user_id=user.id, accounts_only=True)
        reports.close(moderator, about_account, REPORT_RESOLVED)
        db.session.commit()
    return user


def unsuspend_user(moderator: User, user: User, reason: str | None = None) -> User:
    """Lift a suspension.

    :raises PermissionDenied: ``moderator`` may not suspend, or ``user``'s role is not below theirs.
    """
    _check_can_act_on(moderator, user, Permission.SUSPEND_USERS)
    reason = audit.clean_reason(reason, required=False)
    if user.suspended_at is not None:
        user.suspended_at = None
        user.suspension_reason = None
        audit.record(moderator, audit.USER_UNSUSPEND, user, reason=reason)
        db.session.commit()
    return user


def delete_account(admin: User, user: User, reason: str) -> None:
    """Delete an account with its posts, follows and messages, in one transaction.

    Its tokens, notifications, blocks, exports and activity go with it (the foreign keys cascade);
    reports and log entries keep their copied names. The follow counts of the people it followed or
    was followed by are recounted.

    :raises PermissionDenied: ``admin`` may not delete accounts, or ``user`` is an administrator.
    :raises ValidationError: your own account, or no reason.
    """
    _check_can_act_on(admin, user, Permission.DELETE_USERS)
    reason = audit.clean_reason(reason)
    user_id = user.id
    their_follows = sa.or_(followers.c.follower_id == user_id, followers.c.followed_id == user_id)
    their_messages = sa.or_(Message.sender_id == user_id, Message.recipient_id == user_id)
    follow_pairs = sa.select(followers.c.follower_id, followers.c.followed_id).where(their_follows)
    pairs = db.session.execute(follow_pairs)
    others = {other for pair in pairs for other in pair} - {user_id}
    post_ids = list(db.session.scalars(sa.select(Post.id).where(Post.user_id == user_id)))
    messages = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(their_messages))
    details = (f"{len(post_ids)} posts, {user.follower_count} followers, {user.following_count} following, "
               f"{messages} messages")
    audit.record(admin, audit.USER_DELETE, user, reason=reason, details=details)
    reports.close(admin, reports.open_reports_about(user_id=user_id), REPORT_RESOLVED)
    quiet = {"synchronize_session": False}
    media_files.discard_user_media(user)
    db.session.execute(sa.delete(Message).where(their_messages), execution_options=quiet)
    db.session.execute(sa.delete(followers).where(their_follows))
    db.session.execute(sa.delete(Post).where(Post.user_id == user_id), execution_options=quiet)
    db.session.delete(user)
    db.session.flush()
    counters.recount(others)
    db.session.commit()
    media_files.queue_deletions()
    search.queue_posts(*post_ids)
    search.queue_users(user_id)
