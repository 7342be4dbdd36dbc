"""``/tags/<name>`` (a hashtag's public posts), the Atom feeds of a tag and of a person, and the
``trending_tags()`` template global that Explore shows."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from microblog.external_urls import external_url
from microblog.pagination import requested_page, requested_position
from microblog.paging import PageNotFound
from microblog.services import tags
from microblog.tags.feeds import CONTENT_TYPE, atom_feed
from microblog.web import user_or_404

bp = Blueprint("tags", __name__)
# Tags shown on Explore.
TRENDING_SHOWN = 10


def _tag_or_404(name: str) -> str:
    return tags.valid_tag_name(name) or abort(404)


def _feed_response(body: bytes) -> Response:
    response = Response(body, content_type=CONTENT_TYPE)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.route("/tags/<name>")
def tag(name: str):
    """The public posts with this hashtag, newest first (any case: /tags/Tea is #tea)."""
    tag_name = _tag_or_404(name)
    viewer = current_user if current_user.is_authenticated else None
    position = requested_position()
    try:
        page = tags.tag_page(tags.tag_page_select(tag_name, viewer), current_app.config["POSTS_PER_PAGE"],
                             position, 1 if position else requested_page())
    except PageNotFound:
        abort(404)
    return render_template("tags/tag.html", title=f"#{tag_name}", tag=tag_name, page=page)


@bp.route("/tags/<name>/feed.atom")
def feed(name: str) -> Response:
    """An Atom feed of the newest public posts with this hashtag."""
    tag_name = _tag_or_404(name)
    body = atom_feed(
        _("Posts tagged #%(tag)s", tag=tag_name), external_url("tags.feed", name=tag_name),
        external_url("tags.tag", name=tag_name), tags.tag_feed_posts(tag_name),
    )
    return _feed_response(body)


@bp.route("/user/<username>/feed.atom")
def user_feed(username: str) -> Response:
    """An Atom feed of someone's newest public posts."""
    person = user_or_404(username)
    body = atom_feed(
        _("Posts by %(username)s", username=person.username),
        external_url("tags.user_feed", username=person.username),
        external_url("main.user", username=person.username), tags.user_feed_posts(person),
    )
    return _feed_response(body)


@bp.app_template_global()
def trending_tags(limit: int = TRENDING_SHOWN) -> list[tags.TrendingTag]:
    """The trending tags (cached for a minute per process)."""
    return tags.trending(limit)


@bp.app_template_global()
def trending_section() -> Markup:
    """Explore's trending list (``_trending.html``), rendered once per list and language: the list
    changes once a minute at most, and drawing it (a link and a plural per tag) would otherwise cost
    every Explore page a couple of milliseconds."""
    found = tuple(tags.trending(TRENDING_SHOWN))
    key = (found, str(get_locale()), request.script_root)
    rendered: dict = current_app.extensions.setdefault("trending_html", {})
    html = rendered.get(key)
    if html is None:
        if len(rendered) > 64:  # old lists and languages: start again
            rendered.clear()
        html = rendered[key] = Markup(render_template("_trending.html", trending=found))
    return html
