"""The guarded client (federation/safe_http.py) against real servers on loopback: addresses refused
before anything is sent, redirects checked again, limits of time and size, content types, signatures."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from microblog.federation import httpsig, keys, safe_http
from tests.factories import make_user
from tests.federation.peer import Answer, Peer, Seen, json_answer

ACTOR = {"type": "Person", "id": "x"}


@pytest.fixture
def peer():
    with Peer() as server:
        yield server


def test_fetches_json_from_a_peer(app, peer):
    peer.routes["/actor"] = json_answer(ACTOR)
    with app.app_context():
        assert safe_http.fetch_json(peer.url("/actor")) == ACTOR
    assert peer.seen[0].headers["user-agent"].startswith("microblog/")
    assert peer.seen[0].headers["user-agent"].endswith("(+http://microblog.test)")
    assert "application/activity+json" in peer.seen[0].headers["accept"]
    assert peer.seen[0].headers["host"] == peer.host


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_refused_unless_private_addresses_are_allowed(make_app, peer, host):
    peer.routes["/actor"] = json_answer(ACTOR)
    app = make_app(FEDERATION_ALLOW_PRIVATE_ADDRESSES=False)
    with app.app_context(), pytest.raises(safe_http.UnsafeAddress):
        safe_http.fetch_json(peer.url("/actor", host=host))
    assert peer.seen == []  # refused before connecting


@pytest.mark.parametrize("url", [
    "http://10.1.2.3/actor", "http://192.168.0.1/", "http://172.16.0.1/", "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fd00:ec2::254]/",
    "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://224.0.0.1/",
    "https://127.1/", "http://2130706433/",
])
def test_private_addresses_refused(make_app, url):
    app = make_app(FEDERATION_ALLOW_PRIVATE_ADDRESSES=False)
    with app.app_context(), pytest.raises(safe_http.UnsafeAddress):
        safe_http.fetch_json(url)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
                                 "http://0.0.0.0/", "http://[::]/", "ftp://127.0.0.1/", "file:///etc/passwd",
                                 "gopher://127.0.0.1:70/", "http://user:pw@127.0.0.1/", "http:///nohost"])
def test_metadata_and_other_schemes_refused_even_on_private_networks(app, url):
    with app.app_context(), pytest.raises(safe_http.UnsafeAddress):
        safe_http.fetch_json(url)


def test_vetting_resolves_names(make_app):
    """A name is refused for what it resolves to, before any request (here: localhost)."""
    app = make_app(FEDERATION_ALLOW_PRIVATE_ADDRESSES=False)
    with app.app_context():
        with pytest.raises(safe_http.UnsafeAddress, match="localhost resolves to"):
            safe_http.vet_url("https://localhost/.well-known/webfinger")
    with make_app().app_context():  # private addresses allowed: the name's addresses, to connect to
        assert safe_http.vet_url("http://127.0.0.1:8080/x") == ("http", "127.0.0.1", 8080, ["127.0.0.1"])


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                                    "gopher://127.0.0.1:70/x", "http://[::]:80/"])
def test_redirects_are_checked_again(app, peer, target):
    peer.routes["/actor"] = Answer(302, b"", {"Location": target})
    with app.app_context(), pytest.raises(safe_http.UnsafeAddress):
        safe_http.fetch_json(peer.url("/actor"))
    assert len(peer.seen) == 1


def test_redirects_followed_and_reported(app, peer):
    peer.routes["/old"] = Answer(301, b"", {"Location": "/new"})
    peer.routes["/new"] = json_answer(ACTOR)
    with app.app_context():
        data, final = safe_http.fetch_json_response(peer.url("/old"))
    assert data == ACTOR
    assert final == peer.url("/new")


def test_at_most_three_redirects(app, peer):
    for hop in range(5):
        peer.routes[f"/{hop}"] = Answer(302, b"", {"Location": f"/{hop + 1}"})
    peer.routes["/5"] = json_answer(ACTOR)
    with app.app_context(), pytest.raises(safe_http.FetchError, match="redirects"):
        safe_http.fetch_json(peer.url("/0"))
    assert [seen.path for seen in peer.seen] == ["/0", "/1", "/2", "/3"]


# A public address (example.com's) that names under .public.test resolve to; connections to it are
# routed to the peer on loopback. The network is simulated at the socket module, below our code.
PUBLIC = "93.184.216.34"


@pytest.fixture
def public_dns(monkeypatch):
    """``<name>.public.test`` resolves to PUBLIC (``rebind.public.test``: to 127.0.0.1 from the second
    lookup on, a DNS rebinding attack); connections to PUBLIC reach 127.0.0.1. Returns the lookups."""
    lookups: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        if not str(host).endswith(".public.test"):
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        rebound = host == "rebind.public.test" and lookups.count(host) > 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1" if rebound else PUBLIC, port))]

    def create_connection(address, *args, **kwargs):
        host, port = address
        return real_connect(("127.0.0.1" if host == PUBLIC else host, port), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return lookups


def test_redirect_from_a_public_host_to_loopback_refused(make_app, peer, public_dns):
    peer.routes["/actor"] = Answer(302, b"", {"Location": peer.url("/secret")})
    peer.routes["/elsewhere"] = Answer(302, b"", {"Location": peer.url("/ok", host="other.public.test")})
    peer.routes["/ok"] = json_answer(ACTOR)
    peer.routes["/secret"] = json_answer({"secret": True})
    app = make_app(FEDERATION_ALLOW_PRIVATE_ADDRESSES=False)
    with app.app_context():
        assert safe_http.fetch_json(peer.url("/elsewhere", host="social.public.test")) == ACTOR
        assert peer.seen[-1].headers["host"] == f"other.public.test:{peer.port}"
        with pytest.raises(safe_http.UnsafeAddress):
            safe_http.fetch_json(peer.url("/actor", host="social.public.test"))
    assert [seen.path for seen in peer.seen] == ["/elsewhere", "/ok", "/actor"]


def test_dns_rebinding_gets_no_second_lookup(make_app, peer, public_dns):
    """The host is resolved once; the connection goes to the address that was vetted."""
    peer.routes["/actor"] = json_answer(ACTOR)
    app = make_app(FEDERATION_ALLOW_PRIVATE_ADDRESSES=False)
    with app.app_context():
        assert safe_http.fetch_json(peer.url("/actor", host="rebind.public.test")) == ACTOR
        assert public_dns == ["rebind.public.test"]
        with pytest.raises(safe_http.UnsafeAddress):  # the next request sees the new answer, and refuses
            safe_http.fetch_json(peer.url("/actor", host="rebind.public.test"))
    assert len(peer.seen) == 1


def test_too_large_answers_refused(make_app, peer):
    peer.routes["/big"] = json_answer({"padding": "x" * 5000})
    peer.routes["/small"] = json_answer({"padding": "x" * 100})

    def no_length(seen: Seen) -> Answer:  # no Content-Length: read until the limit, then refused
        seen.handler.send_response(200)
        seen.handler.send_header("Content-Type", "application/activity+json")
        seen.handler.send_header("Connection", "close")
        seen.handler.end_headers()
        seen.handler.wfile.write(b'{"padding": "' + b"x" * 5000 + b'"}')
        seen.handler.close_connection = True
        return Answer(-1)

    peer.routes["/stream"] = no_length
    app = make_app(FEDERATION_MAX_RESPONSE_BYTES=1000)
    with app.app_context():
        assert safe_http.fetch_json(peer.url("/small"))["padding"] == "x" * 100
        with pytest.raises(safe_http.TooLarge):
            safe_http.fetch_json(peer.url("/big"))
        with pytest.raises(safe_http.TooLarge):
            safe_http.fetch_json(peer.url("/stream"))


def test_slow_server_times_out(make_app, peer):
    def slow(seen: Seen) -> Answer:
        time.sleep(3)
        return json_answer(ACTOR)

    peer.routes["/slow"] = slow
    app = make_app(FEDERATION_TIMEOUT=1)
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(safe_http.FetchError, match="in time"):
            safe_http.fetch_json(peer.url("/slow"))
    assert time.monotonic() - started < 2.5


def test_dripping_server_cut_off_at_the_overall_deadline(make_app, peer):
    """A server that sends a byte just before each read would time out still ends at the deadline."""
    def drip(seen: Seen) -> Answer:
        seen.handler.send_response(200)
        seen.handler.send_header("Content-Type", "application/activity+json")
        seen.handler.send_header("Content-Length", "100")
        seen.handler.end_headers()
        try:
            for _ in range(40):
                seen.handler.wfile.write(b" ")
                seen.handler.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass
        return Answer(-1)

    peer.routes["/drip"] = drip
    app = make_app(FEDERATION_TIMEOUT=1)
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(safe_http.FetchError, match="in time"):
            safe_http.fetch_json(peer.url("/drip"))
    assert 2.5 < time.monotonic() - started < 5


def test_the_deadline_covers_redirects(make_app, peer):
    """Hops each quicker than the timeout add up to one deadline (three timeouts), not one each."""
    pause = {"seconds": 0.5}

    def slow(seen: Seen) -> Answer:
        time.sleep(pause["seconds"])
        hop = int(seen.path.strip("/"))
        return json_answer(ACTOR) if hop == 3 else Answer(302, b"", {"Location": f"/{hop + 1}"})

    for hop in range(4):
        peer.routes[f"/{hop}"] = slow
    with make_app(FEDERATION_TIMEOUT=1).app_context():
        assert safe_http.fetch_json(peer.url("/0")) == ACTOR  # 4 x 0.5 s: in time
        pause["seconds"] = 0.9
        started = time.monotonic()
        with pytest.raises(safe_http.FetchError, match="in time"):  # 4 x 0.9 s: too long in all
            safe_http.fetch_json(peer.url("/0"))
        assert time.monotonic() - started < 3.5


@pytest.mark.parametrize("content_type", ["text/html", "text/plain", "application/xml", ""])
def test_wrong_content_type_refused(app, peer, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    peer.routes["/actor"] = Answer(200, b'{"type": "Person"}', headers)
    with app.app_context(), pytest.raises(safe_http.FetchError, match="not JSON"):
        safe_http.fetch_json(peer.url("/actor"))


@pytest.mark.parametrize("content_type", ["application/activity+json", "application/json; charset=utf-8",
                                          'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                                          "application/jrd+json"])
def test_json_content_types_accepted(app, peer, content_type):
    peer.routes["/actor"] = Answer(200, b'{"type": "Person"}', {"Content-Type": content_type})
    with app.app_context():
        assert safe_http.fetch_json(peer.url("/actor")) == {"type": "Person"}


def test_statuses(app, peer):
    peer.routes["/gone"] = json_answer({"type": "Tombstone"}, status=410)
    peer.routes["/broken"] = json_answer({"error": "boom"}, status=500)
    peer.routes["/list"] = json_answer([1, 2])
    peer.routes["/bad"] = Answer(200, b"{not json", {"Content-Type": "application/json"})
    with app.app_context():
        with pytest.raises(safe_http.Gone):
            safe_http.fetch_json(peer.url("/gone"))
        with pytest.raises(safe_http.FetchError) as error:
            safe_http.fetch_json(peer.url("/broken"))
        assert error.value.status == 500 and not isinstance(error.value, safe_http.Gone)
        with pytest.raises(safe_http.FetchError) as error:
            safe_http.fetch_json(peer.url("/missing"))
        assert error.value.status == 404
        with pytest.raises(safe_http.FetchError, match="not an object"):
            safe_http.fetch_json(peer.url("/list"))
        with pytest.raises(safe_http.FetchError, match="malformed"):
            safe_http.fetch_json(peer.url("/bad"))


def test_unreachable_peer_is_a_fetch_error(app):
    with Peer() as closed:
        url = closed.url("/actor")
    with app.app_context(), pytest.raises(safe_http.FetchError):
        safe_http.fetch_json(url)


def _verifying(public_pem: str, answer: Answer):
    """A route that answers ``answer`` only to requests whose signature verifies with ``public_pem``."""
    def route(seen: Seen) -> Answer:
        try:
            httpsig.verify_request(seen.method, seen.path, seen.headers, seen.body if seen.method == "POST"
                                   else None, public_pem)
        except httpsig.SignatureError as exc:
            return Answer(401, str(exc).encode(), {"Content-Type": "text/plain"})
        return answer
    return route


def test_signed_get_verifies_on_the_server(app, peer):
    with app.app_context():
        alice = make_user("alice")
        keys.ensure_keys(alice)
        peer.routes["/actor"] = _verifying(alice.public_key_pem, json_answer(ACTOR))
        assert safe_http.fetch_json(peer.url("/actor?page=1"), signer=alice) == ACTOR
        signature = httpsig.parse_signature(peer.seen[-1].headers["signature"])
        assert signature["keyid"] == "http://microblog.test/user/alice#main-key"
        with pytest.raises(safe_http.FetchError) as error:  # unsigned: the server refuses
            safe_http.fetch_json(peer.url("/actor"))
        assert error.value.status == 401


def test_signed_post(app, peer):
    with app.app_context():
        alice = make_user("alice")
        body = b'{"type": "Follow"}'
        keys.ensure_keys(alice)
        peer.routes["/inbox"] = _verifying(alice.public_key_pem, Answer(202))
        assert safe_http.post_activity(peer.url("/inbox"), body, alice) == 202
        seen = peer.seen[-1]
        assert seen.body == body and seen.headers["content-type"] == "application/activity+json"
        assert seen.headers["digest"] == httpsig.digest(body)
        peer.routes["/inbox"] = json_answer({"error": "down"}, status=503)
        assert safe_http.post_activity(peer.url("/inbox"), body, alice) == 503
        peer.routes["/inbox"] = Answer(308, b"", {"Location": "http://169.254.169.254/"})
        assert safe_http.post_activity(peer.url("/inbox"), body, alice) == 308  # not followed


def test_post_to_private_address_refused(make_app):
    app = make_app(FEDERATION_ALLOW_PRIVATE_ADDRESSES=False)
    with app.app_context():
        alice = make_user("alice")
        with pytest.raises(safe_http.UnsafeAddress):
            safe_http.post_activity("https://localhost/inbox", b"{}", alice)


# -- HTTPS with a local CA -------------------------------------------------------------------------

def _certificates(tmp_path):
    """A CA and a certificate it signed for ``localhost`` (only): paths of the CA, the cert, its key."""
    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_https_with_a_local_ca(make_app, tmp_path):
    ca, cert, key = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with Peer(tls=context) as peer:
        peer.routes["/actor"] = json_answer(ACTOR)
        trusting = make_app(FEDERATION_CA_BUNDLE=str(ca))
        with trusting.app_context():
            assert safe_http.fetch_json(peer.url("/actor", host="localhost")) == ACTOR
            # The certificate is checked against the URL's host name, not the address connected to.
            with pytest.raises(safe_http.FetchError):
                safe_http.fetch_json(peer.url("/actor", host="127.0.0.1"))
        untrusting = make_app()
        with untrusting.app_context(), pytest.raises(safe_http.FetchError):
            safe_http.fetch_json(peer.url("/actor", host="localhost"))


def test_addresses_classified():
    refused = [ip for ip in ("127.0.0.1", "10.0.0.1", "::1", "fc00::1", "169.254.1.1", "192.0.2.1")
               if safe_http._is_refused(ipaddress.ip_address(ip), False)]
    assert len(refused) == 6
    assert not safe_http._is_refused(ipaddress.ip_address("93.184.216.34"), False)
    assert not safe_http._is_refused(ipaddress.ip_address("2606:4700::1111"), False)
