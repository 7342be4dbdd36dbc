"""Mastodon.py through the whole of what a Mastodon app does, against a running server
(tests/mastodon_live.py): alice and bob each register an app and log in with the code flow, then post,
reply, edit, delete, favourite, boost, bookmark, follow, page through their home timeline, read the
public and hashtag timelines, search, read their notifications, upload a picture, keep their read
markers and write to each other directly, all as Mastodon's documentation describes it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
import requests

from tests.mastodon_live import consent_in_browser, require_client
from tests.media_samples import png_bytes

try:
    from mastodon import Mastodon, MastodonNotFoundError
except ImportError:  # the fixture turns this into a skip (or a failure under REQUIRE_CLIENTS=1)
    Mastodon = MastodonNotFoundError = None

SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


@pytest.fixture(autouse=True)
def _mastodon_py_installed() -> None:
    require_client(Mastodon is not None, "Mastodon.py (requirements-dev.txt)")


@pytest.fixture
def live_settings() -> dict[str, Any]:
    # Dozens of posts in seconds: the API's per-minute write allowance is not what these tests test.
    return {"RATELIMIT_API_WRITES": "1000 per minute"}


def log_in(base: str, username: str) -> Mastodon:
    """An app of the person's own, registered and logged in through the browser consent."""
    client_id, client_secret = Mastodon.create_app(f"{username}'s app", scopes=SCOPES, redirect_uris=OOB,
                                                   api_base_url=base)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    api.log_in(code=consent_in_browser(base, url, username), redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    return api


class People(NamedTuple):
    alice: Mastodon
    bob: Mastodon
    alice_id: str
    bob_id: str


@pytest.fixture
def people(live) -> People:
    alice, bob = log_in(live, "alice"), log_in(live, "bob")
    return People(alice, bob, alice.me().id, bob.me().id)


def ids(statuses) -> list[str]:
    return [str(status.id) for status in statuses]


def test_each_person_logs_in_with_an_app_of_their_own(people):
    assert people.alice.me().acct == "alice" and people.bob.me().acct == "bob"
    assert people.alice_id != people.bob_id
    assert people.alice.app_verify_credentials().name == "alice's app"
    assert people.bob.app_verify_credentials().name == "bob's app"


def test_post_reply_edit_favourite_boost_bookmark_follow_and_delete(people, live):
    alice, bob = people.alice, people.bob
    hello = alice.status_post("Hello from Mastodon.py #pyflow")
    assert "Hello from Mastodon.py" in hello.content and hello.visibility == "public"
    assert hello.account.acct == "alice" and hello.in_reply_to_id is None
    assert [tag.name for tag in hello.tags] == ["pyflow"]
    assert bob.status(hello.id).id == hello.id

    reply = bob.status_post("@alice Hello back", in_reply_to_id=hello)
    assert reply.in_reply_to_id == hello.id and reply.in_reply_to_account_id == people.alice_id
    assert [mention.acct for mention in reply.mentions] == ["alice"]
    context = alice.status_context(hello)
    assert ids(context.ancestors) == [] and ids(context.descendants) == [str(reply.id)]
    assert alice.status(hello).replies_count == 1

    edited = alice.status_update(hello, "Hello again from Mastodon.py #pyflow")
    assert edited.id == hello.id and "Hello again" in edited.content and edited.edited_at is not None

    relationship = bob.account_follow(people.alice_id)
    assert relationship.following is True and relationship.id == people.alice_id
    [relationship] = bob.account_relationships(people.alice_id)
    assert relationship.following is True and relationship.followed_by is False
    assert people.bob_id in ids(alice.account_followers(people.alice_id))
    assert people.alice_id in ids(bob.account_following(people.bob_id))
    assert bob.account_lookup("alice").id == people.alice_id

    favourited = bob.status_favourite(hello)
    assert favourited.favourited is True and favourited.favourites_count == 1
    boost = bob.status_reblog(hello)
    assert boost.reblog.id == hello.id and boost.account.acct == "bob" and boost.id != hello.id
    assert bob.status(hello).reblogged is True and bob.status(hello).reblogs_count == 1
    assert bob.status_bookmark(hello).bookmarked is True
    assert ids(bob.bookmarks()) == [str(hello.id)]
    assert ids(bob.favourites()) == [str(hello.id)]
    assert str(hello.id) in ids(alice.account_statuses(people.alice_id))

    # bob's home: alice's post, as itself or inside his boost.
    home = bob.timeline_home()
    assert str(hello.id) in [str((status.reblog or status).id) for status in home]
    assert str(hello.id) in ids(bob.timeline_public())
    assert str(hello.id) in ids(bob.timeline_hashtag("pyflow"))

    deleted = alice.status_delete(hello)
    assert deleted.id == hello.id
    assert deleted.text == "Hello again from Mastodon.py #pyflow"  # the source, to redraft from
    with pytest.raises(MastodonNotFoundError):
        bob.status(hello.id)


@pytest.mark.slow  # 45 posts, one request each
def test_home_timeline_pages_through_every_post_once(people):
    alice = people.alice
    posted = [str(alice.status_post(f"Post number {n}").id) for n in range(45)]
    newest_first = posted[::-1]

    page = alice.timeline_home()
    first = page
    seen: list[str] = []
    sizes: list[int] = []
    while page:
        seen += ids(page)
        sizes.append(len(page))
        page = alice.fetch_next(page)
    assert seen == newest_first  # every post once, newest first
    assert sizes == [20, 20, 5]  # the default page is 20
    assert not alice.fetch_previous(first)  # nothing newer than the newest

    # The cursors as the docs define them: max_id older than, since_id the newest newer than,
    # min_id the ones immediately newer than; always newest first.
    assert ids(alice.timeline_home(max_id=posted[10], limit=3)) == [posted[9], posted[8], posted[7]]
    assert ids(alice.timeline_home(since_id=posted[10], limit=3)) == [posted[44], posted[43], posted[42]]
    assert ids(alice.timeline_home(min_id=posted[10], limit=3)) == [posted[13], posted[12], posted[11]]
    assert ids(alice.timeline_home(limit=40)) == newest_first[:40]


def test_search_and_notifications_and_markers(people):
    alice, bob = people.alice, people.bob
    post = alice.status_post("Searchable words about gardening #pyflow")
    bob.account_follow(people.alice_id)
    bob.status_favourite(post)
    bob.status_reblog(post)
    mention = bob.status_post("@alice what grows best?")

    found = alice.search_v2("bob")
    assert "bob" in [account.acct for account in found.accounts]
    tags = alice.search_v2("pyflow", result_type="hashtags").hashtags
    assert "pyflow" in [tag.name for tag in tags]
    statuses = alice.search_v2("gardening", result_type="statuses").statuses
    assert str(post.id) in ids(statuses)

    notifications = alice.notifications()
    kinds = [(n.type, n.account.acct) for n in notifications]
    assert sorted(kinds) == [("favourite", "bob"), ("follow", "bob"), ("mention", "bob"), ("reblog", "bob")]
    by_type = {n.type: n for n in notifications}
    assert by_type["favourite"].status.id == post.id and by_type["reblog"].status.id == post.id
    assert by_type["mention"].status.id == mention.id
    assert by_type["follow"].get("status") is None  # null, or left out as Mastodon does
    assert [n.type for n in alice.notifications(types=["favourite"])] == ["favourite"]
    assert "follow" not in [n.type for n in alice.notifications(exclude_types=["follow"])]
    assert alice.notifications(id=by_type["favourite"].id).type == "favourite"
    assert bob.notifications() == []

    markers = alice.markers_set(["home", "notifications"], [post.id, by_type["mention"].id])
    assert str(markers.home.last_read_id) == str(post.id)
    assert str(markers.notifications.last_read_id) == str(by_type["mention"].id)
    kept = alice.markers_get(["home", "notifications"])
    assert str(kept.home.last_read_id) == str(post.id)
    assert str(kept.notifications.last_read_id) == str(by_type["mention"].id)
    assert bob.markers_get(["home"]) == {}


def test_a_picture_with_a_description(people, live):
    alice = people.alice
    # v2 upload (202 while processing; Mastodon.py then polls GET /api/v1/media/:id until url is set).
    media = alice.media_post(png_bytes(24, 24), mime_type="image/png", description="A grey square",
                             synchronous=True)
    assert media.type == "image" and media.url and media.description == "A grey square"
    assert alice.media(media).id == media.id
    posted = alice.status_post("A picture", media_ids=[media])
    [attached] = posted.media_attachments
    assert attached.id == media.id and attached.description == "A grey square"
    picture = requests.get(attached.url, timeout=30)
    assert picture.status_code == 200 and picture.headers["Content-Type"].startswith("image/")
    with pytest.raises(MastodonNotFoundError):
        people.bob.media(media)  # another person's upload


def test_idempotency_key_posts_once(people):
    alice, bob = people.alice, people.bob
    first = alice.status_post("Only once", idempotency_key="pyflow-key-1")
    again = alice.status_post("Only once", idempotency_key="pyflow-key-1")
    assert again.id == first.id
    other = alice.status_post("Only once", idempotency_key="pyflow-key-2")
    assert other.id != first.id
    assert bob.status_post("Only once", idempotency_key="pyflow-key-1").id != first.id  # keys are per person
    assert ids(alice.account_statuses(people.alice_id)) == [str(other.id), str(first.id)]


def test_direct_messages_make_a_conversation(people):
    alice, bob = people.alice, people.bob
    message = alice.status_post("@bob just between us", visibility="direct")
    assert message.visibility == "direct"
    [conversation] = bob.conversations()
    assert conversation.last_status.id == message.id and conversation.unread is True
    assert [account.acct for account in conversation.accounts] == ["alice"]
    assert bob.conversations_read(conversation).unread is False
    [mine] = alice.conversations()
    assert [account.acct for account in mine.accounts] == ["bob"]
    assert str(message.id) not in ids(bob.timeline_public())
