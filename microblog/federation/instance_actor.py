"""The site's own actor, ``/actor``: an ``Application`` whose key signs the requests no one person
makes (fetching a remote actor or its key, which servers with authorized fetch answer only when
signed). Like Mastodon's instance actor, it follows no one and is followed by no one."""

from __future__ import annotations

from flask import abort, current_app, jsonify

from microblog.federation import keys, objects, urls
from microblog.federation.blueprint import bp


def instance_actor_json() -> dict:
    uri = urls.instance_actor_uri()
    return {
        "@context": objects.CONTEXT,
        "id": uri,
        "type": "Application",
        # The host without its port: a name every server accepts as a username.
        "preferredUsername": urls.local_domain().split(":")[0],
        "name": urls.local_domain(),
        "url": urls.site_root() + "/",
        "inbox": urls.shared_inbox_uri(),
        "endpoints": {"sharedInbox": urls.shared_inbox_uri()},
        "manuallyApprovesFollowers": True,
        "publicKey": {"id": uri + "#main-key", "owner": uri,
                      "publicKeyPem": keys.instance_key().public_key_pem},
    }


@bp.get("/actor")
def instance_actor():
    if not current_app.config["FEDERATION_ENABLED"]:
        abort(404)
    response = jsonify(instance_actor_json())
    response.mimetype = "application/activity+json"
    return response
