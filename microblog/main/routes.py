"""Timelines, profiles, posting, search: the pages people spend their time on."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import charts, compose_json, i18n, ratelimits, themes, timeline
from microblog.avatars import identicon_svg
from microblog.calendar_svg import SIZE as CALENDAR_SIZE
from microblog.calendar_svg import calendar_svg
from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.federation import resolve
from microblog.forms import EmptyForm, submitted
from microblog.main.forms import EditProfileForm, PostForm, RemovePictureForm
from microblog.models import Post
from microblog.pagination import follow_page, home_page, paginate, post_page, requested_page
from microblog.paging import decode_cursor
from microblog.post_forms import ReplyForm
from microblog.redirects import is_safe_local_path, leads_to, safe_next
from microblog.services import accounts, posts, profile_media, relationships, threads
from microblog.services import search as search_service
from microblog.services.suggestions import who_to_follow
from microblog.web import accepts_files, quiet, user_or_404, wants_json

bp = Blueprint("main", __name__)

# Who to follow: how many a sidebar shows, and the quiet home timeline of someone who follows nobody.
SIDEBAR_SUGGESTIONS = 3
STARTER_SUGGESTIONS = 6


@bp.route("/", methods=["GET", "POST"])
@bp.route("/index", methods=["GET", "POST"])
@ratelimits.posts_per_account
@accepts_files()
def index():
    """Home: the signed-in user's timeline and the post form; a welcome page for visitors."""
    if not current_user.is_authenticated:
        page = paginate(Post.explore_select(), 1, current_app.config["POSTS_PER_PAGE"])
        return render_template("main/welcome.html", title=_("Welcome"), posts=page.items)
    form = PostForm()
    published: list[Post] = []
    if submitted(form, lambda: published.append(posts.publish_post(current_user, **form.publish_args()))):
        if wants_json():  # static/compose.js: the card for the top of the timeline
            return compose_json.published(published[0], _("Your post is now live!"), url_for("main.index"))
        flash(_("Your post is now live!"), "success")
        return redirect(url_for("main.index"))
    if form.is_submitted() and wants_json():
        return compose_json.refused(form)
    page = home_page(current_user, current_app.config["POSTS_PER_PAGE"])
    following_anyone = current_user.following_count > 0
    # Who to follow: in a sidebar (``suggestions``), or in the quiet timeline of someone who follows
    # nobody yet (``starter_suggestions``, so that no sidebar repeats them). Cached: no statement on
    # most page views.
    if following_anyone:
        people = {"suggestions": who_to_follow(current_user, SIDEBAR_SUGGESTIONS)}
    else:
        people = {"starter_suggestions": who_to_follow(current_user, STARTER_SUGGESTIONS)}
    return render_template(
        "main/index.html", title=_("Home"), form=form, page=page, following_anyone=following_anyone,
        needs_confirmation=accounts.confirmation_required(current_user), **people,
    )


# The "new posts" banner counts up to this many, then says "20+".
NEWER_CAP = 20


@bp.route("/timeline/newer.json")
@quiet
def newer_posts():
    """How many home timeline entries are newer than the cursor ``after`` (the banner of
    static/timeline.js polls it): ``{"count", "more"}``. Reads only; 401 signed out, 400 bad cursor."""
    if not current_user.is_authenticated:
        abort(401)
    decoded = decode_cursor(request.args.get("after", ""))
    if decoded is None:
        abort(400)
    count = timeline.newer_count(current_user, decoded[0], NEWER_CAP)
    response = jsonify({"count": min(count, NEWER_CAP), "more": count > NEWER_CAP})
    response.cache_control.no_store = True
    return response


@bp.route("/explore")
def explore():
    """Everyone's posts, newest first."""
    viewer = current_user if current_user.is_authenticated else None
    page = post_page(Post.explore_select(viewer), current_app.config["POSTS_PER_PAGE"])
    return render_template("main/explore.html", title=_("Explore"), page=page,
                           suggestions=who_to_follow(viewer, SIDEBAR_SUGGESTIONS))


# People shown above the posts on the first page of results (the rest: &type=people).
PEOPLE_PREVIEW = 5


@bp.route("/search")
def search():
    """Search posts and people: ``q`` (see the README for the syntax), ``sort=new``, ``type=people``."""
    if current_user.is_authenticated and resolve.looks_resolvable(request.args.get("q", "")):
        # A handle or a URL: the account or post it names, fetched from its server if need be.
        found = resolve.resolve(request.args["q"], current_user)
        target = resolve.resolved_url(found, current_user) if found is not None else None
        if target is not None:
            return redirect(target)
    parsed = search_service.parse(request.args.get("q", ""))
    sort = "new" if request.args.get("sort") == "new" else "relevance"
    only_people = request.args.get("type") == "people"
    number = requested_page()
    language = i18n.current_language()
    context = {"title": _("Search"), "parsed": parsed, "query": parsed.text, "sort": sort, "people": None,
               "standings": {},
               "only_people": only_people, "limits": search_service.LIMITS,
               "max_results": search_service.MAX_RESULTS,
               "highlighter": search_service.highlighter(parsed, language)}
    if parsed.is_empty:
        return render_template("main/search.html", **context)
    try:
        if only_people:
            per_page = current_app.config["USERS_PER_PAGE"]
            context["people"] = search_service.search_users(parsed, number, per_page)
        else:
            viewer = current_user if current_user.is_authenticated else None
            per_page = current_app.config["POSTS_PER_PAGE"]
            context["page"] = search_service.search_posts(parsed, number, per_page, sort, language, viewer)
            if number == 1:
                context["people"] = search_service.search_users(parsed, 1, PEOPLE_PREVIEW)
    except search_service.SearchUnavailable:
        response = make_response(render_template("main/search.html", unavailable=True, **context), 503)
        response.headers["Retry-After"] = "60"
        return response
    if context["people"] is not None:
        context["standings"] = relationships.relationships_with(_viewer(), context["people"].items)
    shown = context.get("page") or context["people"]
    if number > 1 and not shown.items and not getattr(shown, "capped", False):
        abort(404)
    return render_template("main/search.html", **context)


@bp.route("/user/<username>")
def user(username: str):
    """A profile: who they are, their counts and their posts."""
    person = user_or_404(username)
    viewer = current_user if current_user.is_authenticated else None
    standing = relationships.relationship(viewer, person)
    page = post_page(person.posts_select(viewer, viewer_follows=standing.following),
                     current_app.config["POSTS_PER_PAGE"])
    counts = {"posts": person.post_count, "followers": person.follower_count,
              "following": person.following_count}
    return render_template(
        "main/user.html", title=person.username, user=person, page=page, counts=counts,
        is_following=standing.following, requested=standing.requested, form=EmptyForm(),
        blocked_them=standing.blocked_them, blocked_me=standing.blocked_me, muted_them=standing.muted,
        calendar_size=CALENDAR_SIZE,
    )


@bp.route("/user/<username>/activity.json")
@quiet
def activity(username: str):
    """The profile's activity calendar: posts per day over the last year (drawn by charts.js)."""
    person = user_or_404(username)
    return charts.posting_calendar(person), 200, {"Cache-Control": "private, max-age=60"}


@bp.route("/user/<username>/activity.svg")
@quiet
def activity_svg(username: str):
    """The same calendar drawn on the server: the profile shows it until (or without) charts.js."""
    person = user_or_404(username)
    theme = request.args.get("theme", "auto")
    svg = calendar_svg(charts.posting_calendar(person), rtl=i18n.text_direction() == "rtl", theme=theme)
    # Its own policy: an SVG with a <style> element and nothing else (no script, nothing to load).
    return svg, 200, {"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "private, max-age=60",
                      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


@bp.route("/post/<id:post_id>")
def post(post_id: int):
    """One post on its own page: the posts it answers, its replies, and a reply form."""
    viewer = current_user if current_user.is_authenticated else None
    target = posts.visible_post(viewer, post_id) or abort(404)
    form = None
    if viewer is not None:
        form = ReplyForm()
        form.start_with(threads.reply_visibility(viewer, target))
    # The first replies, and a link to all of them (``?replies=all``) when there are more.
    everything = request.args.get("replies") == "all"
    shown = threads.MAX_REPLIES if everything else threads.REPLIES_SHOWN
    replies, more = threads.replies_and_more(viewer, target, shown)
    title = _("Post by %(username)s", username=target.author.username)
    return render_template("main/post.html", title=title, post=target,
                           ancestors=threads.ancestors(viewer, target), replies=replies,
                           more_replies=more and not everything, form=form)


@bp.route("/user/<username>/followers")
def followers(username: str):
    """The people who follow this user, each with a Follow/Unfollow button for the viewer."""
    person = user_or_404(username)
    page = follow_page(person.followers_select(), current_app.config["USERS_PER_PAGE"])
    title = _("People following %(username)s", username=person.username)
    return render_template("main/user_list.html", title=title, user=person, page=page, kind="followers",
                           standings=relationships.relationships_with(_viewer(), page.items))


@bp.route("/user/<username>/following")
def following(username: str):
    """The people this user follows, each with a Follow/Unfollow button for the viewer."""
    person = user_or_404(username)
    page = follow_page(person.following_select(), current_app.config["USERS_PER_PAGE"])
    title = _("People %(username)s follows", username=person.username)
    return render_template("main/user_list.html", title=title, user=person, page=page, kind="following",
                           standings=relationships.relationships_with(_viewer(), page.items))


def _viewer():
    """The signed-in user, or None for a visitor."""
    return current_user if current_user.is_authenticated else None


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
@accepts_files(len(profile_media.KINDS))
def edit_profile():
    """Change your username, about-me text, settings, profile picture and header image."""
    form = EditProfileForm(current_user)

    def save() -> None:
        # The text first: a refusal there (a name taken meanwhile) must not leave a new picture saved.
        accounts.update_profile(
            current_user, form.username.data, form.about_me.data,
            notify_new_follower=form.notify_new_follower.data,
            notify_new_message=form.notify_new_message.data,
            notify_mention=form.notify_mention.data,
            notify_reply=form.notify_reply.data,
            locked=form.locked.data,
            default_visibility=form.default_visibility.data if form.default_visibility.raw_data else None,
            locale=form.locale.data if form.locale.raw_data else None,
            theme=form.theme.data if form.theme.raw_data else None,
            timezone=form.timezone.data if form.timezone.raw_data else None,
        )
        for kind, data in form.pictures():
            profile_media.set_picture(current_user, kind, data)

    if submitted(form, save):
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("main.user", username=current_user.username))
    if not form.is_submitted():
        form.username.data = current_user.username
        form.about_me.data = current_user.about_me
        form.notify_new_follower.data = current_user.notify_new_follower
        form.notify_new_message.data = current_user.notify_new_message
        form.notify_mention.data = current_user.notify_mention
        form.notify_reply.data = current_user.notify_reply
        form.locked.data = current_user.locked
        form.default_visibility.data = current_user.default_visibility
        form.locale.data = current_user.locale or ""
        form.theme.data = current_user.theme
        form.timezone.data = current_user.timezone or ""
    return render_template("main/edit_profile.html", title=_("Edit profile"), form=form)


@bp.route("/edit_profile/remove_picture", methods=["POST"])
@login_required
def remove_picture():
    """Go back to the identicon (``kind`` "avatar") or to no header image ("header")."""
    form = RemovePictureForm()
    if not submitted(form, lambda: profile_media.remove_picture(current_user, form.kind.data)):
        abort(400)
    if form.kind.data == "avatar":
        flash(_("Your profile picture has been removed."), "info")
    else:
        flash(_("Your header image has been removed."), "info")
    return redirect(url_for("main.edit_profile"))


@bp.route("/post/<id:post_id>/delete/confirm")
@login_required
def confirm_delete_post(post_id: int):
    """Ask before deleting one of your posts (the Delete button without JavaScript): the change itself
    stays a POST to ``delete_post``, with the page to come back to (``next``)."""
    target = posts.visible_post(current_user, post_id) or abort(404)
    if target.user_id != current_user.id:
        abort(403)
    permalink = url_for("main.post", post_id=post_id)
    back = safe_next(request.args.get("next"), permalink)
    return render_template(
        "confirm.html", title=_("Delete this post?"), post=target,
        explanation=_("The post, its likes and reposts are deleted for everyone. This cannot be undone."),
        action=url_for("main.delete_post", post_id=post_id), button=_("Delete the post"), next=back,
        cancel=back, form=EmptyForm(),
    )


@bp.route("/post/<id:post_id>/delete", methods=["POST"])
@login_required
def delete_post(post_id: int):
    """Delete one of your own posts, then go back to the page you were on (``next``); from the post's
    own page, to the post it answered or your profile. A fetch call gets JSON: the message, and
    where to go when the page it is on is gone."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        parent_id = posts.delete_post(current_user, post_id)
    except DomainError:
        abort(403)
    message = _("Your post has been deleted.")
    gone = url_for("main.post", post_id=post_id)
    elsewhere = (url_for("main.post", post_id=parent_id) if parent_id is not None
                 else url_for("main.user", username=current_user.username))
    wanted = request.form.get("next")
    stays = wanted is not None and is_safe_local_path(wanted) and not leads_to(wanted, gone)
    back = wanted if stays and wanted else elsewhere
    if wants_json():
        return {"message": message, "location": None if stays else back}
    flash(message, "info")
    return redirect(back)


@bp.route("/language", methods=["POST"])
def set_language():
    """The footer's language switcher: a cookie for everyone, and the setting for signed-in users."""
    language = request.form.get("language", "")
    target = request.form.get("next")
    response = redirect(target if is_safe_local_path(target) else url_for("main.index"))
    if EmptyForm().validate_on_submit() and i18n.supported(language):
        response.set_cookie(i18n.LOCALE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        if current_user.is_authenticated:
            accounts.set_language(current_user, language)
    return response


@bp.route("/theme", methods=["POST"])
def set_theme():
    """The footer's theme form: a cookie for everyone, and the setting for signed-in users."""
    theme = themes.valid_theme(request.form.get("theme"))
    target = request.form.get("next")
    response = redirect(target if is_safe_local_path(target) else url_for("main.index"))
    if EmptyForm().validate_on_submit() and theme:
        response.set_cookie(themes.THEME_COOKIE, theme, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        if current_user.is_authenticated:
            accounts.set_theme(current_user, theme)
    return response


@bp.route("/avatar/<digest>.svg")
def avatar(digest: str):
    """A generated identicon; the same digest always draws the same picture, so it is cached for a year
    and never revalidated, as the static files are (a new drawing would need a new URL)."""
    if len(digest) > 64 or not digest.isalnum():
        abort(404)
    response = Response(identicon_svg(digest), mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 60 * 60 * 24 * 365
    response.cache_control.immutable = True
    return response


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok"}
