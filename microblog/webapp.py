"""What browsers and crawlers ask the site itself: the web app manifest, robots.txt, and the page
metadata every template's <head> shows (description, canonical address, sharing image)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask_babel import gettext as _

from microblog.external_urls import external_media_url
from microblog.i18n import current_language_tag, text_direction
from microblog.services import media
from microblog.web import quiet

bp = Blueprint("site", __name__)

SITE_NAME = "Microblog"
# The browser's toolbar and the installed app's splash screen: the header's surface in each scheme
# (--bs-body-bg of microblog.css, light and dark).
THEME_COLOR = "#ffffff"
BACKGROUND_COLOR = "#ffffff"
DARK_THEME_COLOR = "#1c1f26"
# Query arguments that name another page of the same list, kept in a canonical address.
CANONICAL_ARGS = ("page", "before", "after")
MANIFEST_MAX_AGE = 3600  # the language can change: an hour


def site_description() -> str:
    """The description of pages that have none of their own (search results, forms, the home page)."""
    return _("Microblog: short posts from people you follow, and everyone else's on Explore.")


def canonical_url() -> str | None:
    """This page's address on the configured site (SITE_URL, never the request's Host), with only the
    query arguments that choose a page of a list; None outside a routed GET. The home page is "/"
    whichever of its two addresses was asked for."""
    if request.method != "GET" or request.url_rule is None:
        return None
    path = "/" if request.endpoint == "main.index" else request.path
    args = [(name, request.args[name]) for name in CANONICAL_ARGS if request.args.get(name)]
    query = f"?{urlencode(args)}" if args else ""
    return f"{current_app.config['SITE_URL'].rstrip('/')}{quote(path)}{query}"


def avatar_image(user: Any) -> str | None:
    """The absolute address of ``user``'s uploaded picture, for sharing cards (identicons are SVG,
    which sharing cards do not show)."""
    return external_media_url(user.avatar_key) if getattr(user, "avatar_key", None) else None


def post_image(post: Any) -> str | None:
    """The first visible image of ``post`` (one statement, only for a post that has images), else
    its author's picture."""
    if post.media_count:
        for item in media.media_of_posts([post.id]).get(post.id, ()):
            if item.status == "ready" and not item.hidden_at and item.file_key:
                return external_media_url(item.file_key)
    return avatar_image(post.author)


def manifest() -> dict[str, Any]:
    """The web app manifest, in the visitor's language."""
    def icon(filename: str, size: int, purpose: str = "any") -> dict[str, str]:
        return {"src": url_for("static", filename=f"icons/{filename}"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": purpose}

    home = f"{request.script_root}/"
    return {
        "id": home,
        "name": SITE_NAME,
        "short_name": SITE_NAME,
        "description": site_description(),
        "lang": current_language_tag(),
        "dir": text_direction(),
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "categories": ["social"],
        "icons": [
            icon("icon-192.png", 192), icon("icon-512.png", 512),
            icon("icon-maskable-192.png", 192, "maskable"), icon("icon-maskable-512.png", 512, "maskable"),
            {"src": url_for("static", filename="icons/favicon.svg"), "sizes": "any", "type": "image/svg+xml",
             "purpose": "any"},
        ],
    }


@bp.route("/manifest.webmanifest")
@quiet
def web_manifest() -> Response:
    """The manifest that makes the site installable (application/manifest+json)."""
    body = json.dumps(manifest(), ensure_ascii=False, separators=(",", ":"))
    response = Response(body, mimetype="application/manifest+json")
    response.cache_control.public = True
    response.cache_control.max_age = MANIFEST_MAX_AGE
    response.vary.add("Accept-Language")
    return response


# Pages of one person, or of no use to a search engine; everything else may be crawled.
ROBOTS_DISALLOW = ("/admin/", "/api/", "/oauth/", "/messages", "/notifications", "/bookmarks", "/search",
                   "/edit_profile", "/export/", "/tasks/")


@bp.route("/robots.txt")
@quiet
def robots() -> Response:
    """Where crawlers may go (everywhere public)."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(site_description)
    app.add_template_global(canonical_url)
    app.add_template_global(avatar_image)
    app.add_template_global(post_image)
    app.jinja_env.globals.update(site_name=SITE_NAME, theme_color=THEME_COLOR,
                                 dark_theme_color=DARK_THEME_COLOR)
