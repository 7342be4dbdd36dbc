"""How other servers find our accounts: WebFinger (``acct:name@host`` to the actor's id, RFC 7033) and
host-meta (the XRD, and its JSON form, that points at WebFinger; RFC 6415).

Only local, active accounts are found; anything else is a 404 (remote accounts are answered by their
own server). Everything answers 404 while FEDERATION_ENABLED is off.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, abort, current_app, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from microblog.external_urls import external_url
from microblog.federation import urls
from microblog.federation.blueprint import bp
from microblog.models import User
from microblog.services import accounts

JRD = "application/jrd+json; charset=utf-8"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
# A resource longer than this is not one of ours (a username is short, a URL of ours too).
RESOURCE_MAX = 512


def _cors(response: Response) -> Response:
    # Web clients on other origins (e.g. a remote follow button) read these documents.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return _cors(response)


def _require_federation() -> None:
    if not current_app.config["FEDERATION_ENABLED"]:
        abort(404)


def _username_of_actor_url(resource: str) -> str | None:
    """The username in ``resource`` when it is the URL of a local profile (an actor's id), else None."""
    if not urls.is_local(resource):
        return None
    parts = urlsplit(resource)
    prefix = urlsplit(current_app.config["SITE_URL"]).path.rstrip("/")
    path = parts.path
    if prefix:
        if not path.startswith(prefix + "/"):
            return None
        path = path[len(prefix):]
    try:
        endpoint, values = current_app.url_map.bind(parts.netloc).match(path, method="GET")
    except HTTPException:  # no route, or a redirect (trailing slash): not an actor's id
        return None
    return values.get("username") if endpoint == "main.user" else None


def _local_account(username: str) -> User | None:
    user = accounts.get_user_by_username(username)
    if user is None or user.domain is not None or user.deactivated_at is not None:
        return None
    return user


@bp.get("/.well-known/webfinger")
def webfinger():
    """The JRD of a local account, asked for as ``acct:name@host`` (or by its actor URL)."""
    _require_federation()
    resource = request.args.get("resource", "").strip()
    if not resource or len(resource) > RESOURCE_MAX:
        return _error(400, "A resource (acct:name@host) is required.")
    if resource.lower().startswith(("http://", "https://")):
        username = _username_of_actor_url(resource)
    else:
        address = resource[5:] if resource.lower().startswith("acct:") else resource
        name, at, host = address.lstrip("@").rpartition("@")
        if not at or not name or not host:
            return _error(400, "The resource must be acct:name@host or an actor's URL.")
        username = name if host.lower() == urls.local_domain() else None
    user = _local_account(username) if username else None
    if user is None:
        return _error(404, "No such account here.")
    actor = urls.actor_uri(user.username)
    response = jsonify({
        "subject": f"acct:{user.username}@{urls.local_domain()}",
        "aliases": [actor],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": actor},
            {"rel": PROFILE_PAGE, "type": "text/html", "href": actor},
        ],
    })
    response.headers["Content-Type"] = JRD
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return _cors(response)


def _webfinger_template() -> str:
    # Built by hand: url_for would quote the braces of the template.
    return external_url("federation.webfinger") + "?resource={uri}"


@bp.get("/.well-known/host-meta")
def host_meta():
    """The XRD that points clients at WebFinger (older software looks here first)."""
    _require_federation()
    xrd = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
           f'  <Link rel="lrdd" template="{escape(_webfinger_template())}"/>\n'
           "</XRD>\n")
    response = Response(xrd, content_type="application/xrd+xml; charset=utf-8")
    return _cors(response)


@bp.get("/.well-known/host-meta.json")
def host_meta_json():
    """host-meta as JSON (RFC 6415's JRD form)."""
    _require_federation()
    response = jsonify({"links": [{"rel": "lrdd", "template": _webfinger_template()}]})
    response.headers["Content-Type"] = JRD
    return _cors(response)
