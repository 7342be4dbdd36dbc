"""ActivityPub federation (FEDERATION.md): this site's accounts as actors other servers follow, and
other servers' accounts and posts here as rows with an origin.

- ``urls``: the ids of local actors, posts and activities; ``keys`` and ``httpsig``: signatures;
- ``safe_http``: the one guarded client every outgoing request goes through; ``actors``: remote
  actors fetched, stored and refreshed;
- ``inbox`` (routes) and ``processing``: activities received, verified, stored, handled by a job;
- ``outgoing`` and ``delivery``: activities built from local actions and delivered with retries;
- ``instances``: what we know and decide about other servers (failures, blocks).
"""

from __future__ import annotations

from flask import Flask

from microblog.extensions import csrf


def register_federation(app: Flask) -> None:
    """Add the federation routes. Inboxes are authenticated by HTTP Signatures, not by the session
    cookie, so CSRF protection (for forms in browsers) does not apply to them."""
    # activities: registers outgoing's job (jobs.TASKS); the others: their routes on bp
    from microblog.federation import activities, discovery, inbox, instance_actor  # noqa: F401
    from microblog.federation.blueprint import bp
    from microblog.federation.negotiation import register_negotiation

    register_negotiation(app)  # also routes the outbox and our activities' ids on bp
    csrf.exempt(bp)
    app.register_blueprint(bp)
