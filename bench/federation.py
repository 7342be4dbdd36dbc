"""The federation bench (``make bench-federation``): what one server does for the fediverse.

1. Inbox throughput: one gunicorn worker (sync, as the Procfile runs it; its job thread handles what
   arrives) receives signed ``Create`` activities from 100 remote actors, as fast as 4 client
   threads can POST them: how many a second it verifies and accepts (202), and how many a second are
   stored as posts (the job done), from the first POST to the last stored.
2. Delivery fan-out: a local account with 10,000 followers on 100 servers (each a port of one
   receiving process on 127.0.0.1, answering 202) posts once. Measured: the time until every server
   received it (one delivery per server, through its shared inbox), then the same with no shared
   inboxes (10,000 deliveries, one per follower), sent by the in-process job thread.

Everything stays on 127.0.0.1 (``FEDERATION_ALLOW_PRIVATE_ADDRESSES=1``). Prints a table and saves it
under bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import ROOT, free_port, production_env, run, say, start_gunicorn, stop_all  # noqa: E402

ACTORS = 100


# -- the receiving servers of part 2 (a process of their own: the app's process is what is measured) --
def _receivers(hosts: int, counts: multiprocessing.Array, ports: multiprocessing.Queue) -> None:
    """``hosts`` servers on ports the system picks (told through ``ports``), counting what they receive."""
    async def serve(index: int) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    if length:
                        await reader.readexactly(length)
                    with counts.get_lock():
                        counts[index] += 1
                    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        return server.sockets[0].getsockname()[1]

    async def main() -> None:
        ports.put(await asyncio.gather(*(serve(i) for i in range(hosts))))
        await asyncio.Event().wait()

    asyncio.run(main())


def _app(env: dict[str, str]):
    """The app in this process, on ``env``'s database and site (to seed, and to post from)."""
    from config import Config
    from microblog import create_app

    instance = Path(env["INSTANCE_DIR"])
    return create_app(Config, {
        "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SITE_URL": env["SITE_URL"], "SECRET_KEY": env["SECRET_KEY"],
        "INSTANCE_DIR": str(instance), "WHOOSH_INDEX_DIR": str(instance / "search"),
        "FEDERATION_ALLOW_PRIVATE_ADDRESSES": True, "JOBS_BACKEND": "thread", "RATELIMIT_ENABLED": False,
    })


def _remote(index: int, port: int | None, public_pem: str, shared: bool = True):
    from microblog.models import User
    from microblog.timeutil import utcnow

    domain = f"127.0.0.1:{port}" if port else f"peer{index // 100}.bench.invalid"
    base = f"http://{domain}"
    actor = f"{base}/users/u{index}"
    return User(username=f"u{index}@{domain}", email=f"u{index}.{domain}@remote.invalid", password_hash="!",
                domain=domain, actor_uri=actor, key_id=actor + "#main-key", inbox_url=actor + "/inbox",
                shared_inbox_url=f"{base}/inbox" if shared else None, public_key_pem=public_pem,
                confirmed_at=utcnow(), fetched_at=utcnow(), notify_new_follower=False,
                notify_new_message=False, notify_mention=False, notify_reply=False)


# -- part 1 ------------------------------------------------------------------------------------------
def inbox_throughput(workdir: Path, activities: int) -> dict:
    from microblog.extensions import db
    from microblog.federation import httpsig, keys
    from microblog.models import InboxActivity, User, followers
    from microblog.services import counters

    port = free_port()
    env = production_env(f"sqlite:///{workdir / 'inbox.db'}", workdir / "instance", LOG_LEVEL="WARNING",
                         SITE_URL=f"http://127.0.0.1:{port}", FEDERATION_ALLOW_PRIVATE_ADDRESSES="1",
                         JOBS_BACKEND="thread", RATELIMIT_INBOX="100000000 per minute",
                         RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ALLOW_PER_WORKER="1")
    run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"], env, "migrate")
    private_pem, public_pem = keys.generate_key_pair()
    app = _app(env)
    with app.app_context():
        alice = User(username="alice", email="alice@example.com", password_hash="!")
        db.session.add(alice)
        senders = [_remote(i, None, public_pem) for i in range(ACTORS)]
        db.session.add_all(senders)
        db.session.flush()
        db.session.execute(followers.insert(), [{"follower_id": alice.id, "followed_id": s.id} for s in senders])
        for sender in senders:
            counters.follow_added(alice.id, sender.id)
        db.session.commit()
        actors = [(s.actor_uri, s.key_id) for s in senders]
    bodies = []
    for n in range(activities):
        actor, key_id = actors[n % ACTORS]
        note = {"id": f"{actor}/statuses/{n}", "type": "Note", "attributedTo": actor,
                "content": f"<p>Post number {n} from the bench, with a <a href=\"https://example.com\">link</a>.</p>",
                "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"]}
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/statuses/{n}/activity",
                    "type": "Create", "actor": actor, "object": note, "to": note["to"], "cc": note["cc"]}
        body = json.dumps(activity).encode()
        headers = httpsig.sign_request("POST", f"http://127.0.0.1:{port}/inbox", key_id=key_id,
                                       private_pem=private_pem, body=body)
        bodies.append((body, headers))
    server = start_gunicorn("microblog:create_app()", {**env, "WEB_CONCURRENCY": "1"}, workdir, "app", 1,
                            port=port)
    statuses: list[int] = []
    lock = threading.Lock()

    def client(part: list) -> None:
        import http.client

        for body, headers in part:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            conn.request("POST", "/inbox", body=body, headers=headers)
            status = conn.getresponse().status
            conn.close()
            with lock:
                statuses.append(status)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(bodies[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted_in = time.perf_counter() - started
    with app.app_context():
        while True:
            done = db.session.scalar(db.select(db.func.count()).select_from(InboxActivity)
                                     .where(InboxActivity.state == "done"))
            db.session.rollback()
            if done >= activities or time.perf_counter() - started > 600:
                break
            time.sleep(0.05)
        stored_in = time.perf_counter() - started
        posts = db.session.scalar(db.text("SELECT count(*) FROM post WHERE uri IS NOT NULL"))
    stop_all()
    return {"activities": activities, "accepted": statuses.count(202), "others": len(statuses) - statuses.count(202),
            "accept_rate": activities / accepted_in, "stored": posts, "store_rate": posts / stored_in,
            "accepted_s": accepted_in, "stored_s": stored_in}


# -- part 2 ------------------------------------------------------------------------------------------
def fan_out(workdir: Path, followers_count: int, hosts: int) -> list[dict]:
    from microblog.extensions import db
    from microblog.federation import keys
    from microblog.models import Delivery, User, followers
    from microblog.services import counters, posts

    counts = multiprocessing.Array("i", hosts)
    told: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receivers, args=(hosts, counts, told), daemon=True)
    receiver.start()
    ports = told.get(timeout=60)
    env = production_env(f"sqlite:///{workdir / 'fanout.db'}", workdir / "instance2", LOG_LEVEL="WARNING",
                         SITE_URL="http://bench.invalid", FEDERATION_ALLOW_PRIVATE_ADDRESSES="1",
                         JOBS_BACKEND="thread", RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ALLOW_PER_WORKER="1")
    run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"], env, "migrate")
    _private, public_pem = keys.generate_key_pair()
    app = _app(env)
    results = []
    with app.app_context():
        alice = User(username="alice", email="alice@example.com", password_hash="!")
        db.session.add(alice)
        people = [_remote(i, ports[i % hosts], public_pem) for i in range(followers_count)]
        db.session.add_all(people)
        db.session.flush()
        db.session.execute(followers.insert(), [{"follower_id": p.id, "followed_id": alice.id} for p in people])
        counters.follow_added(people[0].id, alice.id, followers_count)
        db.session.commit()
        keys.ensure_keys(alice)
        for label, shared in (("shared inboxes", True), ("one inbox per follower", False)):
            if not shared:
                db.session.execute(db.update(User).where(User.domain.is_not(None)).values(shared_inbox_url=None))
                db.session.commit()
            before = sum(counts[:])
            expected = hosts if shared else followers_count
            started = time.perf_counter()
            posts.publish_post(alice, f"Hello, fediverse ({label})")
            while sum(counts[:]) - before < expected and time.perf_counter() - started < 900:
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            received = sum(counts[:]) - before
            rows = db.session.scalar(db.select(db.func.count()).select_from(Delivery))
            db.session.rollback()
            results.append({"label": label, "deliveries": received, "expected": expected, "seconds": elapsed,
                            "rate": received / elapsed, "rows": rows})
    receiver.terminate()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=3000, help="signed Creates to POST (part 1)")
    parser.add_argument("--followers", type=int, default=10_000, help="remote followers (part 2)")
    parser.add_argument("--hosts", type=int, default=100, help="servers they are on (part 2)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-federation-"))
    say(f"bench-federation in {workdir}")
    try:
        inbox = inbox_throughput(workdir, args.activities)
        fanout = fan_out(workdir, args.followers, args.hosts)
    finally:
        stop_all()
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    lines = [f"# Federation bench, {stamp} ({platform.node()}, {os.cpu_count()} cores, SQLite)", "",
             "## Inbox: signed Creates into one gunicorn worker", "",
             "| activities | accepted (202) | other answers | accepted per second | stored as posts | stored per second |",
             "|---:|---:|---:|---:|---:|---:|",
             f"| {inbox['activities']:,} | {inbox['accepted']:,} | {inbox['others']:,} | {inbox['accept_rate']:.0f} "
             f"| {inbox['stored']:,} | {inbox['store_rate']:.0f} |", "",
             f"## Delivery: one post to {args.followers:,} followers on {args.hosts} servers (job thread, in-process)", "",
             "| inboxes | deliveries received | seconds | deliveries per second | delivery rows |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['label']} | {r['deliveries']:,} of {r['expected']:,} | {r['seconds']:.2f} | {r['rate']:.0f} "
              f"| {r['rows']:,} |" for r in fanout]
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench" / "results" / f"{stamp}-federation.md"
    out.write_text(text)
    say(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
