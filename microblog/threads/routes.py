"""Reply, edit, history: ``/post/<id>/reply`` (POST), ``/post/<id>/edit``, ``/post/<id>/history``.

The permalink itself (``/post/<id>``) is ``main.post``; a reply that fails validation is shown on the
same page, rendered from the same template, with what was typed and the errors.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import compose_json, ratelimits
from microblog.forms import submitted
from microblog.models import Post
from microblog.post_forms import ReplyForm, TextForm
from microblog.services import posts, threads
from microblog.web import accepts_files, wants_json

bp = Blueprint("threads", __name__)


def _visible_or_404(post_id: int) -> Post:
    viewer = current_user if current_user.is_authenticated else None
    return posts.visible_post(viewer, post_id) or abort(404)


@bp.route("/post/<id:post_id>/reply", methods=["POST"])
@login_required
@ratelimits.posts_per_account
@accepts_files()
def reply(post_id: int):
    """Publish a reply to a post, then show it in its thread."""
    parent = _visible_or_404(post_id)
    form = ReplyForm()
    published: list[Post] = []
    if submitted(form, lambda: published.append(
            posts.publish_post(current_user, in_reply_to=parent.id, **form.publish_args()))):
        if wants_json():  # static/compose.js: the card for the replies
            return compose_json.published(published[0], _("Your reply is now live!"),
                                          url_for("main.post", post_id=parent.id), changed=[parent])
        flash(_("Your reply is now live!"), "success")
        return redirect(url_for("main.post", post_id=parent.id, _anchor=f"post-{published[0].id}"))
    if wants_json():
        return compose_json.refused(form)
    ancestors, replies = threads.context(current_user, parent)
    title = _("Post by %(username)s", username=parent.author.username)
    return render_template("main/post.html", title=title, post=parent, ancestors=ancestors,
                           replies=replies, form=form), 400


@bp.route("/post/<id:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int):
    """Change the text and content warning of one of your posts."""
    post = _visible_or_404(post_id)
    if post.user_id != current_user.id:
        abort(403)
    form = TextForm()
    if submitted(form, lambda: posts.edit_post(current_user, post.id, form.post.data, form.spoiler.data)):
        flash(_("Your post has been updated."), "success")
        return redirect(url_for("main.post", post_id=post.id))
    if not form.is_submitted():
        form.post.data, form.spoiler.data = post.body, post.summary or ""
    return render_template("threads/edit.html", title=_("Edit post"), form=form, post=post)


@bp.route("/post/<id:post_id>/history")
def history(post_id: int):
    """A post's current text and its earlier versions, newest first."""
    post = _visible_or_404(post_id)
    return render_template("threads/history.html", title=_("Edit history"), post=post,
                           versions=threads.history(post))
