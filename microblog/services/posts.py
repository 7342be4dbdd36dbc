"""Post rules: publishing, editing, deleting, and finding one post a viewer may see."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from microblog import search
from microblog.exceptions import NotFound, PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.languages import detect_language
from microblog.models import ID_MAX, POST_BODY_CEILING, Post, User
from microblog.services import counters, roles, tags
from microblog.services.accounts import confirmation_required
from microblog.textutil import has_control_characters, has_visible_character


def max_post_length() -> int:
    return min(current_app.config["POST_MAX_LENGTH"], POST_BODY_CEILING)


def clean_body(body: str) -> str:
    """Strip the body and check its length and characters.

    :raises ValidationError: empty, too long, containing control characters, or showing nothing.
    """
    body = (body or "").replace("\r\n", "\n").strip()
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


def publish_post(author: User, body: str) -> Post:
    """Create a post by ``author``.

    :raises PermissionDenied: the author is suspended, or has not confirmed their address yet (when the
        site asks).
    """
    roles.check_not_suspended(author)
    if confirmation_required(author):
        raise PermissionDenied(_("Please confirm your email address before posting."), field="body")
    body = clean_body(body)
    post = Post(body=body, author=author, language=detect_language(body))
    db.session.add(post)
    counters.posts_added(author.id)
    tags.file_post(post)
    db.session.commit()
    search.queue_posts(post.id)
    return post


def edit_post(user: User, post_id: int, body: str) -> Post:
    """Change the text of a post; only its author may.

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
    post.body = clean_body(body)
    post.language = detect_language(post.body)
    tags.refile_post(post)
    db.session.commit()
    search.queue_posts(post.id)
    return post


def delete_post(user: User, post_id: int) -> None:
    """Delete a post; only its author may.

    :raises PermissionDenied: ``user`` did not write it.
    """
    # An id the column cannot hold would make the database raise instead of finding nothing.
    post = db.session.get(Post, post_id) if 0 < post_id <= ID_MAX else None
    if post is None:
        return  # already gone: deleting twice is harmless
    if post.user_id != user.id:
        raise PermissionDenied(_("You can only delete your own posts."))
    db.session.delete(post)
    counters.posts_added(post.user_id, -1)
    db.session.commit()
    search.queue_posts(post_id)
