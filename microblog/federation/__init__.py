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

from flask import Blueprint, Flask

from microblog.extensions import csrf

bp = Blueprint("federation", __name__)


def register_federation(app: Flask) -> None:
    """Add the federation routes. Inboxes are authenticated by HTTP Signatures, not by the session
    cookie, so CSRF protection (for forms in browsers) does not apply to them."""
    from microblog.federation import (
        activities,  # noqa: F401 - registers outgoing's job (jobs.TASKS)
        inbox,  # noqa: F401 - registers its routes on bp
    )

    csrf.exempt(bp)
    app.register_blueprint(bp)
