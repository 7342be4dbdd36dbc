"""Post rules: publishing (and replying), editing with history, deleting, and finding one post a
viewer may see."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from microblog import search
from microblog.exceptions import NotFound, PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.federation import outgoing
from microblog.languages import detect_language
from microblog.models import (
    ID_MAX,
    POST_BODY_CEILING,
    SUMMARY_MAX,
    Block,
    Mute,
    NotificationKind,
    Post,
    PostEdit,
    User,
    Visibility,
)
from microblog.services import blocks, counters, media, media_files, roles, tags, threads
from microblog.services.accounts import confirmation_required
from microblog.services.notifications import add_notification
from microblog.textutil import has_control_characters, has_visible_character
from microblog.timeutil import utcnow

# The values of ``post.visibility``.
VISIBILITIES = tuple(v.value for v in Visibility)


def max_post_length() -> int:
    return min(current_app.config["POST_MAX_LENGTH"], POST_BODY_CEILING)


def normalized_body(body: str | None) -> str:
    """The text a post keeps: CRLF line ends as LF, whitespace stripped at both ends (``str.strip``)."""
    return (body or "").replace("\r\n", "\n").strip()


def body_length(body: str | None) -> int:
    """A post's length as its limit counts it: code points of ``normalized_body`` (an emoji is one, a
    letter with a combining accent two). static/compose.js counts the same way in the composer."""
    return len(normalized_body(body))


def clean_body(body: str) -> str:
    """Strip the body and check its length and characters.

    :raises ValidationError: empty, too long, containing control characters, or showing nothing.
    """
    body = normalized_body(body)
    if not body:
        raise ValidationError(_("A post cannot be empty."), field="body")
    limit = max_post_length()
    if len(body) > limit:
        raise ValidationError(
            _("A post is at most %(max)d characters (this one has %(count)d).", max=limit, count=len(body)),
            field="body",
        )
    if has_control_characters(body):
        raise ValidationError(_("A post cannot contain control characters."), field="body")
    if not has_visible_character(body):
        # Zero-width spaces or Hangul fillers alone: a post that shows nothing.
        raise ValidationError(_("A post needs at least one visible character."), field="body")
    return body


def visible_post(viewer: User | None, post_id: int) -> Post | None:
    """The post with this id if ``viewer`` (None: signed out) may see it (``Post.visible_to``), or None."""
    # An id the column cannot hold would make the database raise instead of finding nothing.
    if not 0 < post_id <= ID_MAX:
        return None
    return db.session.scalar(Post.visible_select(viewer).where(Post.id == post_id))


def clean_summary(summary: str | None) -> str | None:
    """Strip a content warning and check it; an empty one is no warning (None).

    :raises ValidationError: too long, or containing control characters.
    """
    summary = (summary or "").strip()
    if not summary:
        return None
    if len(summary) > SUMMARY_MAX:
        raise ValidationError(
            _("A content warning is at most %(max)d characters.", max=SUMMARY_MAX), field="summary"
        )
    if has_control_characters(summary):
        raise ValidationError(_("A content warning cannot contain control characters."), field="summary")
    return summary


def clean_visibility(visibility: str | None, default: str) -> str:
    """The visibility asked for (``default`` when none is given).

    :raises ValidationError: not one of the Visibility values.
    """
    if visibility is None or visibility == "":
        return default
    if visibility not in VISIBILITIES:
        raise ValidationError(_("Choose who can see the post: public, unlisted or followers."),
                              field="visibility")
    return visibility


def publish_post(author: User, body: str, *, in_reply_to: int | None = None, visibility: str | None = None,
                 summary: str | None = None, media_ids: Sequence[int] = (),
                 uploads: Sequence[media.Upload] = (),
                 before_commit: Callable[[Post], None] | None = None) -> Post:
    """Create a post by ``author``, maybe a reply to the post ``in_reply_to``, maybe with images: uploads
    made before (``media_ids``, the API's way) and files sent with the post (``uploads``, checked by
    ``media.check_upload``; stored here, after every other rule has passed, so a refused post stores
    nothing). Images are processed by a job after the commit.

    A reply counts on its parent (``reply_count``, in this transaction) and notifies the parent's
    author. It is followers-only by default when its parent is.

    :raises PermissionDenied: the author is suspended, has not confirmed their address yet (when the
        site asks), or the parent's author blocked them.
    :raises NotFound: ``in_reply_to`` is no post the author may see.
    :raises ValidationError: the body, the content warning, the visibility or the images break the rules.
    :raises Unavailable: the media storage is down (nothing is posted).
    """
    roles.check_not_suspended(author)
    if confirmation_required(author):
        raise PermissionDenied(_("Please confirm your email address before posting."), field="body")
    body = clean_body(body)
    summary = clean_summary(summary)
    parent = None
    default = author.default_visibility or Visibility.PUBLIC.value
    if in_reply_to is not None:
        parent = visible_post(author, in_reply_to)
        if parent is None:
            raise NotFound(_("That post does not exist."))
        if parent.user_id != author.id and blocks.block_state(author, parent.author)[1]:
            raise PermissionDenied(_("You cannot reply to %(username)s.", username=parent.author.username))
        default = threads.reply_visibility(author, parent)
    visibility = clean_visibility(visibility, default)
    attachments = media.claim_media(author, media_ids)
    attachments += media.store_uploads(author, uploads, already=len(attachments))
    post = Post(body=body, author=author, language=detect_language(body), visibility=visibility,
                summary=summary)
    media.attach(post, attachments)
    if parent is not None:
        post.in_reply_to_id = parent.id
        post.in_reply_to_user_id = parent.user_id
        post.is_reply = True
    db.session.add(post)
    counters.posts_added(author.id)
    if parent is not None:
        db.session.flush()  # the reply's id, for its notification
        _count_reply(parent.id, 1)
        _notify_reply(parent, post)
    tags.file_post(post)
    if before_commit is not None:
        before_commit(post)
    db.session.commit()
    media.queue_processing(attachments)
    search.queue_posts(post.id)
    outgoing.post_created(post.id)
    return post


def _count_reply(parent_id: int, delta: int) -> None:
    # "count = count + n" in SQL: concurrent replies cannot lose each other's updates.
    query = sa.update(Post).where(Post.id == parent_id)
    if delta < 0:
        query = query.where(Post.reply_count >= -delta)
    db.session.execute(query.values(reply_count=Post.reply_count + delta),
                       execution_options={"synchronize_session": False})


def _notify_reply(parent: Post, reply: Post) -> None:
    """Tell the parent's author about ``reply``, unless they wrote it or blocked or muted its author."""
    recipient_id, actor_id = parent.user_id, reply.user_id
    if recipient_id == actor_id:
        return
    refused = sa.union_all(
        sa.select(Block.blocker_id).where(Block.blocker_id == recipient_id, Block.blocked_id == actor_id),
        sa.select(Mute.muter_id).where(Mute.muter_id == recipient_id, Mute.muted_id == actor_id),
    )
    if db.session.scalar(sa.select(sa.exists(refused))):
        return
    notification = add_notification(recipient_id, NotificationKind.REPLY, actor_id=actor_id)
    if notification is not None:
        notification.post_id = reply.id


def edit_post(user: User, post_id: int, body: str, summary: str | None = None) -> Post:
    """Change the text (and content warning) of a post; only its author may. The version it replaces
    is kept as a PostEdit row (``/post/<id>/history``); an edit that changes nothing does nothing.

    :raises NotFound: there is no such post.
    :raises PermissionDenied: ``user`` did not write it, or is suspended.
    :raises ValidationError: the new text breaks the rules for a post.
    """
    post = db.session.get(Post, post_id) if 0 < post_id <= ID_MAX else None
    if post is None:
        raise NotFound(_("That post does not exist."))
    if post.user_id != user.id:
        raise PermissionDenied(_("You can only edit your own posts."))
    roles.check_not_suspended(user)  # an edit is a new post as far as what it says goes
    body = clean_body(body)
    summary = clean_summary(summary)
    if body == post.body and summary == post.summary:
        return post
    db.session.add(PostEdit(post_id=post.id, body=post.body, summary=post.summary,
                            written_at=post.edited_at or post.timestamp))
    post.body = body
    post.summary = summary
    post.edited_at = utcnow()
    post.language = detect_language(post.body)
    tags.refile_post(post)
    db.session.commit()
    search.queue_posts(post.id)
    outgoing.post_updated(post.id)
    return post


def delete_post(user: User, post_id: int) -> int | None:
    """Delete a post; only its author may. Returns the id of the post it answered (None: none, or
    the post was already gone), so a page can go to the rest of the conversation.

    :raises PermissionDenied: ``user`` did not write it.
    """
    # An id the column cannot hold would make the database raise instead of finding nothing.
    post = db.session.get(Post, post_id) if 0 < post_id <= ID_MAX else None
    if post is None:
        return None  # already gone: deleting twice is harmless
    if post.user_id != user.id:
        raise PermissionDenied(_("You can only delete your own posts."))
    parent_id, has_media = post.in_reply_to_id, post.media_count > 0
    inboxes = outgoing.inboxes_for_post(post)  # read now: the follows and mentions go with the post
    if has_media:
        media_files.discard_post_media([post.id])
    db.session.delete(post)
    counters.posts_added(post.user_id, -1)
    if parent_id is not None:
        _count_reply(parent_id, -1)
    db.session.commit()
    if has_media:
        media_files.queue_deletions()
    search.queue_posts(post_id)
    outgoing.post_deleted(user.id, post_id, inboxes)
    return parent_id
