"""NodeInfo 2.0 and 2.1 (nodeinfo.diaspora.software), and the /.well-known/nodeinfo that points at
them: the software, its protocols (ActivityPub while FEDERATION_ENABLED), its usage (local accounts and
posts only) and whether sign-up is open."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from microblog.external_urls import external_url
from microblog.mastodon.paths import route
from microblog.services import instance_info

bp = Blueprint("nodeinfo", __name__)

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"


@route(bp, "/.well-known/nodeinfo", methods=["GET"])
def discovery():
    """Links to the NodeInfo documents this site serves."""
    return {"links": [{"rel": SCHEMA.format(version=version), "href": external_url("nodeinfo.nodeinfo",
                                                                                   version=version)}
                      for version in ("2.0", "2.1")]}


@route(bp, "/nodeinfo/<any('2.0', '2.1'):version>", methods=["GET"])
def nodeinfo(version: str) -> Response:
    """The NodeInfo document of ``version``."""
    usage = instance_info.usage()
    software: dict[str, str] = {"name": "microblog", "version": instance_info.app_version() or ""}
    response = jsonify({
        "version": version,
        "software": software,
        "protocols": ["activitypub"] if current_app.config["FEDERATION_ENABLED"] else [],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": True,
        "usage": {"users": {"total": usage.users, "activeMonth": usage.active_month,
                            "activeHalfyear": usage.active_halfyear},
                  "localPosts": usage.local_posts},
        "metadata": {},
    })
    response.mimetype = "application/json"
    response.headers["Content-Type"] = f'application/json; profile="{SCHEMA.format(version=version)}#"'
    return response
