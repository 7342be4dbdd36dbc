"""A remote server's inboxes for the delivery tests: a real HTTP server on 127.0.0.1 (an ephemeral port)
that records every POST and answers with the status the test sets; and remote accounts on it."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from microblog.extensions import db
from microblog.federation import httpsig
from microblog.models import User
from microblog.timeutil import utcnow


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def activity(self) -> dict[str, Any]:
        return json.loads(self.body)

    def verify(self, public_pem: str) -> None:
        """Check the request's HTTP Signature, as a receiving server would. :raises SignatureError:"""
        httpsig.verify_request("POST", self.path, self.headers, self.body, public_pem)


@dataclass
class Peer:
    """The remote server: ``status`` is what its inboxes answer; ``received`` what they were sent."""

    status: int = 202
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.domain}"

    def start(self) -> Peer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                peer.received.append(Received(self.path, headers, body))
                self.send_response(peer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def of_type(self, kind: str) -> list[Received]:
        return [item for item in self.received if item.activity.get("type") == kind]

    def remote_user(self, name: str, *, shared: bool = True) -> User:
        """A stored account of this server (as the actor fetching would have stored it)."""
        actor = f"{self.base}/users/{name}"
        user = User(username=f"{name}@{self.domain}", email=f"{uuid.uuid4().hex}@remote.invalid",
                    password_hash="!", domain=self.domain, actor_uri=actor, inbox_url=f"{actor}/inbox",
                    shared_inbox_url=f"{self.base}/inbox" if shared else None, key_id=f"{actor}#main-key",
                    confirmed_at=utcnow(), notify_new_follower=False, notify_new_message=False,
                    notify_mention=False, notify_reply=False)
        db.session.add(user)
        db.session.commit()
        return user
