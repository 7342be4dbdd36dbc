"""Federation end to end: people on separate instances of this app follow, post, reply, like, repost,
edit, delete, block and unfollow across them, over real HTTP (signed deliveries, inbox jobs).

Each test makes its own people (unique names) on the module's three instances (conftest.py), acts
through the Mastodon API and the web pages the way a client or a browser would, and waits (at most
``REMOTE_TIMEOUT`` seconds) for the effect on the other instance. Nothing is mocked: a failure here is
a failure of federation between two real servers, and the failed test shows both servers' logs.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote

import pytest
import requests

from microblog import jobs
from tests.federation.multi.harness import REMOTE_TIMEOUT, Instance, Person, csrf_token, eventually

pytestmark = [pytest.mark.federation, pytest.mark.slow]

# The locked account's owner approves requests on this page (the graph work's follow-requests page).
FOLLOW_REQUESTS_PAGE = "/follow_requests"


# -- what people do, and what they see ------------------------------------------------------------
def marker(word: str) -> str:
    """A word no other post contains, to find a post by."""
    return f"{word}{secrets.token_hex(4)}"


def resolve(viewer: Person, target: Person) -> dict[str, Any]:
    """``target``'s account on ``viewer``'s instance (its Mastodon API entity), found as a person finds
    it: their handle typed into the web search, which resolves it (WebFinger, then the actor fetched
    with a signed GET) and sends the browser to the profile it stored."""
    answer = viewer.web.get(viewer.instance.url + "/search", params={"q": target.handle}, timeout=60,
                            allow_redirects=False)
    assert answer.status_code == 302, \
        f"searching {target.handle} on {viewer.instance.name}: {answer.status_code} {answer.text[:1000]}"
    stored = viewer.instance.sql("SELECT id FROM user WHERE username = ?", target.acct)
    assert stored, f"{viewer.instance.name} kept no account {target.acct}"
    assert answer.headers["Location"].endswith(f"/user/{target.acct}") \
        or answer.headers["Location"].endswith(f"/user/{quote(target.acct)}"), answer.headers["Location"]
    return viewer.call("GET", f"/api/v1/accounts/{stored[0][0]}")


def relationship(viewer: Person, account_id: str) -> dict[str, Any]:
    return viewer.call("GET", "/api/v1/accounts/relationships", params={"id[]": account_id})[0]


def follower_accts(person: Person) -> set[str]:
    """The ``acct`` of everyone following ``person``, as ``person``'s own instance lists them."""
    followers = person.call("GET", f"/api/v1/accounts/{person.me()['id']}/followers", params={"limit": 80})
    return {account["acct"] for account in followers}


def follow(follower: Person, followed: Person) -> str:
    """``follower`` follows ``followed`` on another instance and the Accept comes back: ``followed``'s
    account id on ``follower``'s instance."""
    account = resolve(follower, followed)
    follower.call("POST", f"/api/v1/accounts/{account['id']}/follow")
    eventually(lambda: relationship(follower, account["id"])["following"],
               f"{followed.acct} to accept {follower.acct}'s follow")
    assert follower.acct in follower_accts(followed)
    return account["id"]


def post(person: Person, text: str, **fields: str) -> dict[str, Any]:
    return person.call("POST", "/api/v1/statuses", data={"status": text, **fields})


def home(person: Person) -> list[dict[str, Any]]:
    return person.call("GET", "/api/v1/timelines/home", params={"limit": 40})


def status_by(statuses: list[dict[str, Any]], author_acct: str, word: str) -> dict[str, Any] | None:
    """The status of ``author_acct`` whose text has ``word``."""
    for status in statuses:
        if status["account"]["acct"] == author_acct and word in status["content"]:
            return status
    return None


def arrived_on_home(reader: Person, author: Person, word: str) -> dict[str, Any]:
    """Wait until ``author``'s post with ``word`` is on ``reader``'s home timeline (another instance)."""
    return eventually(lambda: status_by(home(reader), author.acct, word),
                      f"{author.acct}'s post {word!r} on {reader.acct}'s home timeline")


def remote_status(viewer: Person, status_id: str) -> requests.Response:
    return viewer.api("GET", f"/api/v1/statuses/{status_id}")


# -- following -------------------------------------------------------------------------------------
def test_a_follow_across_instances_is_accepted(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    bob_on_a = resolve(alice, bob)
    assert bob_on_a["url"].startswith(fediverse.b.url) or bob_on_a["acct"] == bob.acct
    assert relationship(alice, bob_on_a["id"])["following"] is False
    alice.call("POST", f"/api/v1/accounts/{bob_on_a['id']}/follow")
    # The Accept came back from B: A counts the follow...
    eventually(lambda: relationship(alice, bob_on_a["id"])["following"], "the Accept on A")
    # ...and B lists her among bob's followers, with the origin she has on A.
    assert alice.acct in follower_accts(bob)
    stored = fediverse.b.sql("SELECT actor_uri, domain FROM user WHERE username = ?", alice.acct)
    assert stored == [(alice.actor_uri, fediverse.a.domain)]


def test_the_mastodon_api_search_resolves_a_handle(fediverse):
    """What a Mastodon client does to find someone elsewhere: ``GET /api/v2/search?resolve=true``."""
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    found = alice.call("GET", "/api/v2/search",
                       params={"q": bob.handle, "resolve": "true", "type": "accounts"})
    assert [account["acct"] for account in found["accounts"]] == [bob.acct]
    assert fediverse.a.sql("SELECT actor_uri, domain FROM user WHERE username = ?", bob.acct) \
        == [(bob.actor_uri, fediverse.b.domain)]


def test_a_new_account_gets_its_key_pair_at_sign_up(fediverse):
    """Keys are made after sign-up (a job in the instance's job thread), not at the first fetch."""
    bob = Person.sign_up(fediverse.b, "bob")
    eventually(lambda: fediverse.b.sql("SELECT public_key_pem FROM user WHERE username = ?",
                                       bob.username)[0][0], "the key pair", timeout=30)


# -- posts: create, reply, like, repost, edit, delete -----------------------------------------------
def test_a_post_reaches_the_remote_followers_home_timeline(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    follow(alice, bob)
    word = marker("hello")
    post(bob, f"Hello from B, {word}")
    status = arrived_on_home(alice, bob, word)
    assert status["visibility"] == "public"


def test_a_reply_reaches_the_thread_and_notifies_the_author(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    follow(alice, bob)
    word = marker("question")
    original = post(bob, f"What do you think? {word}")
    on_a = arrived_on_home(alice, bob, word)
    answer = marker("answer")
    reply = post(alice, f"I agree, {answer}", in_reply_to_id=on_a["id"])
    assert reply["in_reply_to_id"] == on_a["id"]

    def in_thread() -> bool:
        context = bob.call("GET", f"/api/v1/statuses/{original['id']}/context")
        return status_by(context["descendants"], alice.acct, answer) is not None

    eventually(in_thread, "alice's reply in bob's thread on B")

    def notified() -> bool:
        notes = bob.call("GET", "/api/v1/notifications")
        return any(note["account"]["acct"] == alice.acct and note.get("status")
                   and answer in note["status"]["content"] for note in notes)

    eventually(notified, "bob's notification of the reply")


def test_likes_and_reposts_are_counted_on_the_origin(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    follow(alice, bob)
    word = marker("likeable")
    original = post(bob, f"Like me, {word}")
    on_a = arrived_on_home(alice, bob, word)
    alice.call("POST", f"/api/v1/statuses/{on_a['id']}/favourite")
    alice.call("POST", f"/api/v1/statuses/{on_a['id']}/reblog")

    def counted() -> bool:
        status = bob.call("GET", f"/api/v1/statuses/{original['id']}")
        return status["favourites_count"] == 1 and status["reblogs_count"] == 1

    eventually(counted, "the like and the repost counted on B")
    liked_by = bob.call("GET", f"/api/v1/statuses/{original['id']}/favourited_by")
    assert [account["acct"] for account in liked_by] == [alice.acct]
    # Taking the like back is counted too.
    alice.call("POST", f"/api/v1/statuses/{on_a['id']}/unfavourite")
    eventually(lambda: bob.call("GET", f"/api/v1/statuses/{original['id']}")["favourites_count"] == 0,
               "the Undo{Like} on B")


def test_an_edit_reaches_the_remote_copy(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    follow(alice, bob)
    before, after = marker("draft"), marker("final")
    original = post(bob, f"First version {before}")
    on_a = arrived_on_home(alice, bob, before)
    bob.call("PUT", f"/api/v1/statuses/{original['id']}", data={"status": f"Second version {after}"})

    def edited() -> bool:
        status = remote_status(alice, on_a["id"]).json()
        return after in status["content"] and before not in status["content"]

    eventually(edited, "the edit on A")
    assert remote_status(alice, on_a["id"]).json()["edited_at"]


def test_a_deleted_post_is_gone_from_the_remote_instance(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    follow(alice, bob)
    word = marker("regret")
    original = post(bob, f"I will delete this, {word}")
    on_a = arrived_on_home(alice, bob, word)
    bob.call("DELETE", f"/api/v1/statuses/{original['id']}")
    eventually(lambda: remote_status(alice, on_a["id"]).status_code == 404, "the post gone on A")
    assert status_by(home(alice), bob.acct, word) is None


# -- blocks and unfollows ------------------------------------------------------------------------
def test_a_block_ends_the_follow_on_both_instances(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    bob_on_a = follow(alice, bob)
    alice_on_b = next(account for account in
                      bob.call("GET", f"/api/v1/accounts/{bob.me()['id']}/followers")
                      if account["acct"] == alice.acct)
    bob.call("POST", f"/api/v1/accounts/{alice_on_b['id']}/block")
    assert alice.acct not in follower_accts(bob)
    eventually(lambda: not relationship(alice, bob_on_a)["following"], "the Block to end the follow on A")
    # And bob's next post does not reach her.
    word = marker("private")
    post(bob, f"Not for alice, {word}")
    follower_check = marker("witness")
    carol = Person.sign_up(fediverse.a, "carol")
    follow(carol, bob)
    post(bob, f"For carol, {follower_check}")
    arrived_on_home(carol, bob, follower_check)  # deliveries to A went out after the block...
    assert status_by(home(alice), bob.acct, word) is None  # ...and none for alice


def test_an_unfollow_leaves_the_remote_followers_list(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    bob_on_a = follow(alice, bob)
    alice.call("POST", f"/api/v1/accounts/{bob_on_a}/unfollow")
    assert relationship(alice, bob_on_a)["following"] is False
    eventually(lambda: alice.acct not in follower_accts(bob), "the Undo{Follow} on B")


# -- a locked account ------------------------------------------------------------------------------
def approve_on_web(owner: Person, requester: Person) -> None:
    """``owner`` approves ``requester``'s follow request on the follow-requests page, as in a browser."""
    page = owner.page(FOLLOW_REQUESTS_PAGE)
    assert page.status_code == 200, f"{FOLLOW_REQUESTS_PAGE}: {page.status_code}"
    at = page.text.find(requester.acct)
    assert at >= 0, f"{requester.acct} is not on {owner.acct}'s follow requests page"
    forms = [(match.start(), match.group(1)) for match in
             re.finditer(r'<form[^>]*action="([^"]*(?:approve|accept|authori[sz]e)[^"]*)"', page.text)]
    after = [action for start, action in forms if start > at] or [action for _, action in forms]
    assert after, f"no approve button on {owner.acct}'s follow requests page"
    answer = owner.web.post(owner.instance.url + after[0].replace("&amp;", "&"),
                            data={"csrf_token": csrf_token(page.text)}, timeout=60, allow_redirects=False)
    assert answer.status_code in (200, 302, 303), answer.text[:2000]


def test_a_locked_account_approves_a_remote_follow_by_hand(fediverse):
    alice, bob = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.b, "bob")
    fediverse.b.sql("UPDATE user SET locked = 1 WHERE username = ?", bob.username)  # his choice, set up
    bob_on_a = resolve(alice, bob)
    # A read manuallyApprovesFollowers from his actor.
    assert fediverse.a.sql("SELECT locked FROM user WHERE username = ?", bob.acct) == [(1,)]
    alice.call("POST", f"/api/v1/accounts/{bob_on_a['id']}/follow")
    # The request waits on B (a follow request, not a follow) and alice's follow is still pending on A.
    eventually(lambda: fediverse.b.sql(
        "SELECT count(*) FROM follow_request JOIN user ON user.id = follow_request.follower_id"
        " WHERE user.username = ?", alice.acct) == [(1,)], "the follow request on B")
    assert alice.acct not in follower_accts(bob)
    assert relationship(alice, bob_on_a["id"])["following"] is False
    word = marker("secret")
    post(bob, f"Followers only, {word}", visibility="private")
    approve_on_web(bob, alice)
    eventually(lambda: relationship(alice, bob_on_a["id"])["following"], "the Accept on A")
    assert alice.acct in follower_accts(bob)
    waiting = fediverse.b.sql("SELECT count(*) FROM follow_request WHERE followed_id = ?", bob.me()["id"])
    assert waiting == [(0,)]
    # Now a followers-only post reaches her (the one before her follow was approved does not).
    later = marker("secret")
    post(bob, f"Followers only, {later}", visibility="private")
    assert arrived_on_home(alice, bob, later)["visibility"] == "private"
    assert status_by(home(alice), bob.acct, word) is None


# -- a peer that is down for a while ---------------------------------------------------------------
def make_deliveries_due(site: Instance, peer: Instance) -> None:
    """What time would do: the deliveries ``site`` keeps for ``peer`` become due now, and ``peer`` is
    no longer held back as unavailable (the retry schedule itself is delivery's to test)."""
    site.sql("UPDATE delivery SET next_attempt_at = '2000-01-01 00:00:00.000000'"
             " WHERE status != 'sent' AND inbox_url LIKE ?", peer.url + "/%")
    site.sql("UPDATE instance SET unavailable_until = NULL WHERE domain = ?", peer.domain)


def test_a_peer_down_for_a_while_gets_everything_once_it_is_back(fediverse):
    alice, carol = Person.sign_up(fediverse.a, "alice"), Person.sign_up(fediverse.c, "carol")
    follow(carol, alice)
    known = fediverse.a.sql("SELECT coalesce(max(id), 0) FROM delivery")[0][0]  # the Accept, say
    fediverse.c.stop()
    try:
        words = [marker("while-you-were-away"), marker("and-this-too")]
        for word in words:
            post(alice, f"Posted while C is down: {word}")

        def failed_once() -> bool:
            rows = fediverse.a.sql("SELECT status, attempts FROM delivery WHERE id > ? AND inbox_url LIKE ?",
                                   known, fediverse.c.url + "/%")
            return len(rows) == len(words) and all(status != "sent" and tries >= 1 for status, tries in rows)

        eventually(failed_once, "A's deliveries to C to fail once", timeout=REMOTE_TIMEOUT * 2)
        assert fediverse.a.sql("SELECT failing_since IS NOT NULL FROM instance WHERE domain = ?",
                               fediverse.c.domain) == [(1,)]
    finally:
        fediverse.c.start()  # same port, same database
    make_deliveries_due(fediverse.a, fediverse.c)
    # A's periodic work (every jobs.PERIODIC_SECONDS while its job queue is idle) sends what is due.
    waited = 2 * jobs.PERIODIC_SECONDS + REMOTE_TIMEOUT
    for word in words:
        eventually(lambda word=word: status_by(home(carol), alice.acct, word),
                   f"{word!r} on C after it came back", timeout=waited)
    timeline = home(carol)
    for word in words:  # each once: nothing lost, nothing doubled
        assert sum(word in status["content"] for status in timeline) == 1
    assert fediverse.a.sql("SELECT count(*) FROM delivery WHERE status != 'sent' AND inbox_url LIKE ?",
                           fediverse.c.url + "/%") == [(0,)]
    failing = fediverse.a.sql("SELECT failing_since FROM instance WHERE domain = ?", fediverse.c.domain)
    assert failing == [(None,)]
