"""The one guarded HTTP client of federation: every request to another server goes through here.

A remote server chooses the URLs we fetch (actor ids, inboxes, redirects), so each request is checked
before it is sent (SSRF):

- only ``http``/``https`` URLs; the host is resolved once and refused if any of its addresses is
  loopback, private, link-local, multicast, reserved or unspecified (unless
  ``FEDERATION_ALLOW_PRIVATE_ADDRESSES``: tests on loopback, a private network of servers); the cloud
  metadata addresses and unspecified/multicast ones are refused even then;
- the connection goes to the address that was checked (no second lookup a DNS rebinding could answer
  differently), with the host name in ``Host`` and in TLS (SNI and the certificate check);
- redirects (at most ``MAX_REDIRECTS``) are checked again like the first URL;
- ``FEDERATION_TIMEOUT`` for connecting and for each read, ``OVERALL_TIMEOUTS`` of them for the whole
  exchange (redirects included), at most ``FEDERATION_MAX_RESPONSE_BYTES`` of answer, JSON content
  types only for JSON.

``http`` stays allowed for public hosts too: a few small servers federate without TLS; signatures,
not the transport, authenticate activities. ``FEDERATION_CA_BUNDLE`` names extra trusted CAs (a local
CA in tests and private networks).

Requests are signed (HTTP Signatures, authorized fetch) with the key of the local account given as
``signer``/``sender``.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import current_app

from microblog.federation import httpsig, keys, urls
from microblog.models import User

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
# The whole exchange (connect, headers, body) may take this many FEDERATION_TIMEOUTs.
OVERALL_TIMEOUTS = 3
ACTIVITY_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JSON_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json",
                        "application/jrd+json"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Cloud metadata services: never fetched, whatever the settings say.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"),
                                ipaddress.ip_address("fd00:ec2::254")})
_CHUNK = 64 * 1024


class FetchError(Exception):
    """The request failed: unreachable, refused, timed out, malformed, or an error status (``status``)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class UnsafeAddress(FetchError):
    """The URL names a host we do not send requests to (a private address, a bad scheme)."""


class Gone(FetchError):
    """The remote server answered 410 Gone: the object (or actor) was deleted."""


class TooLarge(FetchError):
    """The answer is larger than FEDERATION_MAX_RESPONSE_BYTES."""


@dataclass
class Response:
    """An answer: its status, headers (lower-case names), body, and the URL it came from after redirects."""

    status: int
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _version() -> str:
    try:
        return metadata.version("microblog")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def user_agent() -> str:
    return f"microblog/{_version()} (+{urls.site_root()})"


def _is_refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES or address.is_unspecified or address.is_multicast:
        return True
    if allow_private:
        return False
    return (address.is_loopback or address.is_private or address.is_link_local or address.is_reserved
            or not address.is_global)


def vet_url(url: str) -> tuple[str, str, int, list[str]]:
    """Check ``url`` and resolve its host: (scheme, host, port, the addresses to connect to).

    :raises UnsafeAddress: a scheme other than http(s), no host, or an address we do not contact.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeAddress(f"only http and https URLs are fetched, not {url[:80]!r}")
    try:
        host = parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeAddress("the URL's port is invalid") from exc
    if not host:
        raise UnsafeAddress("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeAddress("URLs with credentials are not fetched")
    allow_private = bool(current_app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"])
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    if not infos:
        raise FetchError(f"cannot resolve {host}")
    addresses: list[str] = []
    for _family, _kind, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if _is_refused(address, allow_private):
            raise UnsafeAddress(f"{host} resolves to an address that is not fetched ({address})")
        if str(address) not in addresses:
            addresses.append(str(address))
    return scheme, host, port, addresses


def _ssl_context() -> ssl.SSLContext:
    bundle = current_app.config.get("FEDERATION_CA_BUNDLE")
    context = ssl.create_default_context()
    if bundle:
        context.load_verify_locations(cafile=bundle)
    return context


def _connection(scheme: str, host: str, port: int, addresses: list[str],
                timeout: float) -> http.client.HTTPConnection:
    """A connection to ``host`` that connects to one of the vetted ``addresses``, in turn (TLS still
    checks ``host``)."""
    conn: http.client.HTTPConnection
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=_ssl_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect_to_vetted(_address: tuple[str, int], timeout: float | None = None,
                          source_address: tuple[str, int] | None = None) -> socket.socket:
        error: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection((address, port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")

    conn._create_connection = connect_to_vetted  # type: ignore[attr-defined]  # http.client's hook
    return conn


def _signed_headers(method: str, url: str, signer: User | keys.Signer | None,
                    body: bytes | None) -> dict[str, str]:
    if signer is None:
        return {"Host": urlsplit(url).netloc, "Date": httpsig.http_date()}
    if isinstance(signer, User):
        if signer.domain is not None:
            raise FetchError("only local accounts sign requests")
        signing = keys.signer_for(signer)
    else:
        signing = signer
    return httpsig.sign_request(method, url, key_id=signing.key_id, private_pem=signing.private_pem,
                                body=body)


def _deadline() -> float:
    """When a request (with its redirects) must be over, on the monotonic clock."""
    return time.monotonic() + float(current_app.config["FEDERATION_TIMEOUT"]) * OVERALL_TIMEOUTS


def _exchange(method: str, url: str, headers: dict[str, str], body: bytes | None, *, deadline: float,
              read_body: bool = True) -> Response:
    """One request to ``url`` (checked), its answer read within the limits and before ``deadline``."""
    scheme, host, port, addresses = vet_url(url)
    config = current_app.config
    timeout = float(config["FEDERATION_TIMEOUT"])
    limit = int(config["FEDERATION_MAX_RESPONSE_BYTES"])
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"{host} did not answer in time")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = _connection(scheme, host, port, addresses, timeout)
    expired = threading.Event()

    def give_up() -> None:  # the overall deadline: a server that drips bytes is cut off
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(remaining, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request(method, target, body=body, headers={"User-Agent": user_agent(), **headers})
        answer = conn.getresponse()
        answer_headers = {name.lower(): value for name, value in answer.getheaders()}
        data = b""
        if read_body:
            declared = answer_headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise TooLarge(f"{host} answered {declared} bytes (limit {limit})")
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = answer.read(min(_CHUNK, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"{host} answered more than {limit} bytes")
            if expired.is_set():  # the deadline's shutdown reads as the end of the answer
                raise FetchError(f"{host} did not answer in time")
            if declared.isdigit() and size < int(declared):
                raise FetchError(f"{host} closed the connection before the end of its answer")
            data = b"".join(chunks)
        return Response(status=answer.status, url=url, body=data, headers=answer_headers)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise FetchError(f"{host} did not answer in time") from exc
        raise FetchError(f"{host}: {type(exc).__name__}: {exc}") from exc
    finally:
        watchdog.cancel()
        conn.close()


def get(url: str, *, signer: User | keys.Signer | None = None, accept: str = ACTIVITY_ACCEPT) -> Response:
    """A GET of ``url`` (signed by ``signer``'s key when given), following up to MAX_REDIRECTS checked
    redirects. Any status is returned; see :func:`fetch_json` for the checked variant.

    :raises FetchError: (or a subclass) the request could not be made or its answer read.
    """
    current = url
    deadline = _deadline()
    for _hop in range(MAX_REDIRECTS + 1):
        headers = {"Accept": accept, **_signed_headers("GET", current, signer, None)}
        response = _exchange("GET", current, headers, None, deadline=deadline)
        if response.status in REDIRECTS and response.headers.get("location"):
            current = urljoin(current, response.headers["location"])
            continue
        return response
    raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url[:200]}")


def fetch_json_response(url: str, *, signer: User | keys.Signer | None = None, accept: str = ACTIVITY_ACCEPT
                        ) -> tuple[dict[str, Any], str]:
    """The JSON object at ``url`` and the URL it came from after redirects (for checks of whose it is).

    :raises Gone: 410. :raises FetchError: another non-2xx status, not JSON, too large, unreachable.
    :raises UnsafeAddress: a URL (or redirect) to an address we do not contact.
    """
    response = get(url, signer=signer, accept=accept)
    if response.status == 410:
        raise Gone(f"{url[:200]} is gone", status=410)
    if not 200 <= response.status < 300:
        raise FetchError(f"{url[:200]} answered {response.status}", status=response.status)
    if response.content_type not in JSON_TYPES:
        raise FetchError(f"{url[:200]} answered {response.content_type or 'no content type'}, not JSON",
                         status=response.status)
    try:
        data = json.loads(response.body)
    except ValueError as exc:
        raise FetchError(f"{url[:200]} answered malformed JSON", status=response.status) from exc
    if not isinstance(data, dict):
        raise FetchError(f"{url[:200]} answered JSON that is not an object", status=response.status)
    return data, response.url


def fetch_json(url: str, *, signer: User | keys.Signer | None = None,
               accept: str = ACTIVITY_ACCEPT) -> dict[str, Any]:
    """The JSON object at ``url``: a signed GET (authorized fetch) when ``signer`` is given, unsigned
    otherwise. Raises as :func:`fetch_json_response` does."""
    return fetch_json_response(url, signer=signer, accept=accept)[0]


def post_activity(inbox_url: str, body: bytes, sender: User) -> int:
    """POST an activity (JSON bytes) to a remote inbox, signed by ``sender`` (with a Digest); the
    answer's status. Redirects are not followed (an inbox that moved answers 3xx: a failed delivery).

    :raises FetchError: (or UnsafeAddress) the inbox could not be reached.
    """
    headers = _signed_headers("POST", inbox_url, sender, body)
    headers.setdefault("Content-Type", "application/activity+json")
    response = _exchange("POST", inbox_url, {"Accept": ACTIVITY_ACCEPT, **headers}, body,
                         deadline=_deadline(), read_body=False)
    return response.status
