"""Remote actors for federation tests: a stored remote account with a key pair, and signed POSTs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from microblog.extensions import db
from microblog.federation import httpsig, keys
from microblog.models import User
from microblog.timeutil import utcnow

_PAIRS: list[tuple[str, str]] = []


def key_pair(index: int = 0) -> tuple[str, str]:
    """A (private, public) PEM pair, made once per test session per index (RSA generation is slow)."""
    while len(_PAIRS) <= index:
        _PAIRS.append(keys.generate_key_pair())
    return _PAIRS[index]


@dataclass
class Remote:
    user: User
    private_pem: str

    @property
    def actor(self) -> str:
        return self.user.actor_uri or ""

    @property
    def key_id(self) -> str:
        return self.user.key_id or ""


def remote_actor(name: str = "bob", domain: str = "remote.example", *, pair: int = 0,
                 scheme: str = "https", **columns: Any) -> Remote:
    """A remote account stored as federation stores one (no fetching)."""
    private_pem, public_pem = key_pair(pair)
    actor = f"{scheme}://{domain}/users/{name}"
    user = User(username=f"{name}@{domain}", email=f"{name}.{pair}@{domain}.remote.invalid",
                password_hash="!", domain=domain, actor_uri=actor, key_id=actor + "#main-key",
                inbox_url=actor + "/inbox", shared_inbox_url=f"{scheme}://{domain}/inbox",
                followers_url=actor + "/followers", profile_url=f"{scheme}://{domain}/@{name}",
                public_key_pem=public_pem, confirmed_at=utcnow(), fetched_at=utcnow(),
                notify_new_follower=False, notify_new_message=False, notify_mention=False,
                notify_reply=False, **columns)
    db.session.add(user)
    db.session.commit()
    return Remote(user, private_pem)


def signed_post(client: FlaskClient, path: str, activity: dict[str, Any] | bytes, remote: Remote, *,
                key_id: str | None = None, private_pem: str | None = None, now=None,
                body: bytes | None = None):
    """POST ``activity`` to ``path`` signed with ``remote``'s key (or the key given)."""
    data = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    headers = httpsig.sign_request("POST", "http://microblog.test" + path, key_id=key_id or remote.key_id,
                                   private_pem=private_pem or remote.private_pem, body=data, now=now)
    return client.post(path, data=body if body is not None else data, headers=headers,
                       base_url="http://microblog.test")
