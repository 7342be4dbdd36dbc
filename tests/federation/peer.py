"""A real HTTP(S) server on 127.0.0.1 (an ephemeral port) standing in for another fediverse server in
the network tests: each path answers what the test put there, and every request is recorded."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    """A request the peer received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    handler: Any = None  # the request handler, for routes that write their own answer (slow servers)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Seen], Answer]


def json_answer(data: Any, status: int = 200, content_type: str = "application/activity+json") -> Answer:
    return Answer(status, json.dumps(data).encode(), {"Content-Type": content_type})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (refused answers, timeouts: what the tests provoke) are not errors."""


class Peer:
    """``peer.routes[path] = Answer | callable(Seen) -> Answer``; ``peer.url(path)``; ``peer.seen``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Answer | Route] = {}
        self.seen: list[Seen] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                seen = Seen(self.command, self.path, headers, body, self)
                peer.seen.append(seen)
                route = peer.routes.get(self.path) or peer.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    answer = Answer(404, b"not here", {"Content-Type": "text/plain"})
                else:
                    answer = route(seen) if callable(route) else route
                if answer.status < 0:  # a route that wrote its own answer (slow servers)
                    return
                self.send_response(answer.status)
                headers = {"Content-Length": str(len(answer.body)), **answer.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's names

        self.handler = Handler
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """The peer's domain as federation names it: host and port."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> Peer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def person(peer: Peer, name: str, public_pem: str, **extra: Any) -> dict[str, Any]:
    """The actor document of ``name`` on ``peer`` (as Mastodon publishes one), served at /users/<name>."""
    actor_id = peer.url(f"/users/{name}")
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id, "type": "Person", "preferredUsername": name, "name": name.title(),
        "summary": f"<p>I am {name}.</p><p>Hello &amp; welcome</p>",
        "inbox": f"{actor_id}/inbox", "outbox": f"{actor_id}/outbox", "followers": f"{actor_id}/followers",
        "endpoints": {"sharedInbox": peer.url("/inbox")}, "url": peer.url(f"/@{name}"),
        "icon": {"type": "Image", "url": peer.url(f"/avatars/{name}.png")},
        "manuallyApprovesFollowers": False,
        "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": public_pem},
        **extra,
    }


def serve_person(peer: Peer, doc: dict[str, Any]) -> None:
    """Serve ``doc`` at its id's path, and WebFinger for it."""
    name = doc["preferredUsername"]
    path = doc["id"].split(str(peer.port), 1)[1]
    peer.routes[path] = json_answer(doc)
    peer.routes["/.well-known/webfinger"] = lambda seen: json_answer({
        "subject": f"acct:{name}@{peer.host}",
        "links": [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": doc["url"]},
                  {"rel": "self", "type": "application/activity+json", "href": doc["id"]}],
    }, content_type="application/jrd+json") if f"acct:{name}@" in seen.path.replace("%40", "@").replace(
        "%3A", ":") else Answer(404)
