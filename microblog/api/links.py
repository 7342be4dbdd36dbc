"""The ``_links`` of API objects: each URL is built once per app from a template, then filled in.

A page of 25 posts carries 200 links (each post's own two and its author's six); calling ``url_for``
for each was the largest part of an API list (bench/README.md). The routes never
change while the app runs, so each endpoint's URL is built once with a stand-in value and the real
id, name or digest is put in its place.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

from microblog.services.accounts import USERNAME_RE

# Stand-ins that cannot be confused with the rest of a URL.
_ID = 918_273_645_546_372_819
_NAME = "zz_username_zz"
_DIGEST = "zzdigestzz"


def _templates() -> dict[str, str]:
    cache = current_app.extensions.setdefault("api_link_templates", {})
    templates = cache.get(request.script_root)
    if templates is None:
        templates = {
            "self": url_for("api_users.get_user", user_id=_ID),
            "posts": url_for("api_posts.get_user_posts", user_id=_ID),
            "followers": url_for("api_users.get_followers", user_id=_ID),
            "following": url_for("api_users.get_following", user_id=_ID),
            "avatar": url_for("main.avatar", digest=_DIGEST),
            "html": url_for("main.user", username=_NAME),
            "post": url_for("api_posts.get_post", post_id=_ID),
        }
        cache[request.script_root] = templates
    return templates


def user_url(user_id: int) -> str:
    """``url_for("api_users.get_user", user_id=user_id)``."""
    return _templates()["self"].replace(str(_ID), str(int(user_id)))


def post_url(post_id: int) -> str:
    """``url_for("api_posts.get_post", post_id=post_id)``."""
    return _templates()["post"].replace(str(_ID), str(int(post_id)))


def user_links(user: Any) -> dict[str, str]:
    """The links of a user object: itself, its lists, its avatar and its web page."""
    templates = _templates()
    user_id, stand_in = str(int(user.id)), str(_ID)
    names = ("self", "posts", "followers", "following")
    links = {name: templates[name].replace(stand_in, user_id) for name in names}
    links["avatar"] = templates["avatar"].replace(_DIGEST, user.avatar_digest)
    # Usernames are letters, digits and "_" (no quoting); anything else takes the long way.
    if USERNAME_RE.fullmatch(user.username):
        links["html"] = templates["html"].replace(_NAME, user.username)
    else:
        links["html"] = url_for("main.user", username=user.username)
    return links
