"""Content activities from a remote server, POSTed signed to the inboxes: posts created, edited and
deleted, likes, reposts, a deleted account, a moved account; forged and replayed activities."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.federation import httpsig, keys
from microblog.models import (
    Announce,
    FollowRequest,
    InboxActivity,
    Instance,
    Like,
    Mention,
    Notification,
    Post,
    PostEdit,
    User,
    followers,
)
from microblog.services import posts as post_service
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_post, make_user, signed_in_client

SITE = "http://microblog.test"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PRIVATE_PEM, PUBLIC_PEM = keys.generate_key_pair()
_ids = itertools.count(1)


def make_remote(name: str = "bob", domain: str = "remote.example", **extra: Any) -> User:
    actor = f"https://{domain}/users/{name}"
    user = User(username=f"{name}@{domain}", email=f"{uuid.uuid4().hex}@remote.invalid", password_hash="!",
                domain=domain, actor_uri=actor, key_id=actor + "#main-key", public_key_pem=PUBLIC_PEM,
                inbox_url=actor + "/inbox", followers_url=actor + "/followers",
                profile_url=f"https://{domain}/@{name}", confirmed_at=utcnow(), notify_new_follower=False,
                notify_new_message=False, notify_mention=False, notify_reply=False, **extra)
    db.session.add(user)
    db.session.commit()
    return user


def deliver(client, sender: User, activity: dict[str, Any], path: str = "/inbox"):
    """POST ``activity`` signed by ``sender``'s key, as its server would."""
    body = json.dumps(activity).encode()
    assert sender.key_id is not None
    headers = httpsig.sign_request("POST", SITE + path, key_id=sender.key_id, private_pem=PRIVATE_PEM,
                                   body=body)
    response = client.post(path, data=body, headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response


def note(sender: User, content: str = "<p>Hello from afar</p>", **fields: Any) -> dict[str, Any]:
    n = next(_ids)
    return {"id": f"{sender.actor_uri}/statuses/{n}", "type": "Note", "attributedTo": sender.actor_uri,
            "content": content, "published": "2026-12-01T10:00:00Z", "url": f"https://{sender.domain}/@x/{n}",
            "to": [PUBLIC], "cc": [sender.followers_url], **fields}


def activity(sender: User, kind: str, obj: Any, **fields: Any) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{sender.actor_uri}/activities/{next(_ids)}", "type": kind, "actor": sender.actor_uri,
            "object": obj, **fields}


def stored(uri: str) -> Post | None:
    return db.session.scalar(sa.select(Post).where(Post.uri == uri))


def fresh(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


@pytest.fixture
def people(app):
    with app.app_context():
        alice = make_user("alice")
        bob = make_remote()
        return alice.id, bob.id


def _users(*ids: int) -> list[User]:
    found = [db.session.get(User, user_id) for user_id in ids]
    assert all(found)
    return [user for user in found if user is not None]


def _kinds(user_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user_id)))


# -- Create -----------------------------------------------------------------------------------------
def test_create_reaches_the_home_timeline_of_a_local_follower_sanitized(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        make_follow(alice, bob)
        hostile = ('<p>Hello <b>world</b><script>alert("x")</script> '
                   '<a href="javascript:alert(1)" onclick="x()">click</a> '
                   '<a href="https://remote.example/tags/tea" class="mention hashtag" rel="tag">'
                   '#<span>tea</span></a>'
                   '</p><img src="https://remote.example/x.png" onerror="alert(2)">')
        created = note(bob, hostile, tag=[{"type": "Hashtag", "name": "#Tea", "href": "https://x"}])
        deliver(client, bob, activity(bob, "Create", created), "/user/alice/inbox")
        post = stored(created["id"])
        assert post is not None and post.user_id == bob.id and post.visibility == "public"
        assert "<script" not in post.content_html and "javascript:" not in post.content_html
        assert "onerror" not in post.content_html and "onclick" not in post.content_html
        assert post.body == "Hello world click #tea"
        assert post.url == created["url"]
        assert fresh(bob).post_count == 1
        post_id, content_html = post.id, post.content_html
    page = signed_in_client(app, "alice").get("/index").get_data(as_text=True)
    assert "Hello <b>world</b>" in page and 'alert("x")' not in page and "onerror" not in page
    assert "@bob@remote.example" in page and "/user/bob@remote.example" in page
    assert "View on remote.example" in page and created["url"] in page
    # The hashtag from the tag list files it under the tag.
    assert "Hello" in client.get("/tags/tea").get_data(as_text=True)
    # Mastodon clients get the sanitized HTML too.
    status = client.get(f"/api/v1/statuses/{post_id}")
    assert status.status_code == 200 and status.json["content"] == content_html


def test_a_reply_to_a_local_post_joins_its_thread_and_notifies_its_author(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        parent = make_post(alice, "a local post")
        reply = note(bob, f'<p><a href="{SITE}/user/alice" class="u-url mention">@alice</a> yes</p>',
                     inReplyTo=f"{SITE}/post/{parent.id}", cc=[f"{SITE}/user/alice"],
                     tag=[{"type": "Mention", "href": f"{SITE}/user/alice", "name": "@alice@microblog.test"}])
        deliver(client, bob, activity(bob, "Create", reply))
        post = stored(reply["id"])
        assert post.in_reply_to_id == parent.id and post.in_reply_to_user_id == alice.id and post.is_reply
        assert db.session.get(Post, parent.id).reply_count == 1
        kinds = set(db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == alice.id,
                                                                         Notification.post_id == post.id)))
        assert kinds == {"reply", "mention"}
        assert db.session.get(Mention, (post.id, alice.id)) is not None
        parent_id = parent.id
    thread = client.get(f"/post/{parent_id}").get_data(as_text=True)
    assert "yes" in thread and "@bob@remote.example" in thread


def test_followers_only_posts_are_seen_by_local_followers_only(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        dave = make_user("dave")
        make_follow(alice, bob)
        private = note(bob, "<p>for my followers</p>", to=[bob.followers_url], cc=[])
        deliver(client, bob, activity(bob, "Create", private, to=[bob.followers_url]))
        post = stored(private["id"])
        assert post.visibility == "followers"
        assert post_service.visible_post(alice, post.id) is not None
        assert post_service.visible_post(dave, post.id) is None
        assert post_service.visible_post(None, post.id) is None
        post_id = post.id
    assert client.get(f"/post/{post_id}").status_code == 404
    assert signed_in_client(app, "alice").get(f"/post/{post_id}").status_code == 200


def test_posts_for_nobody_here_and_direct_messages_are_not_stored(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        unheard = note(bob, "<p>nobody here follows me</p>", to=[bob.followers_url], cc=[])
        deliver(client, bob, activity(bob, "Create", unheard))
        direct = note(bob, "<p>psst</p>", to=[f"{SITE}/user/alice"], cc=[])
        deliver(client, bob, activity(bob, "Create", direct), "/user/alice/inbox")
        assert stored(unheard["id"]) is None and stored(direct["id"]) is None
        assert fresh(bob).post_count == 0


def test_unlisted_addressing_and_a_future_date(app, client, people):
    with app.app_context():
        _alice, bob = _users(*people)
        unlisted = note(bob, "<p>quiet</p>", to=[bob.followers_url], cc=[PUBLIC],
                        published="2999-01-01T00:00:00Z", summary="<p>spoiler &amp; more</p>",
                        contentMap={"fr": "<p>quiet</p>"})
        deliver(client, bob, activity(bob, "Create", unlisted))
        post = stored(unlisted["id"])
        assert post.visibility == "unlisted" and post.summary == "spoiler & more" and post.language == "fr"
        assert post.timestamp <= utcnow()


def test_images_are_links_with_their_description_and_none_when_media_is_rejected(app, client, people):
    attachment = [{"type": "Document", "mediaType": "image/png", "url": "https://remote.example/media/1.png",
                   "name": "A cat", "width": 640, "height": 480, "blurhash": "LEHV6nWB2yk8"},
                  {"type": "Document", "mediaType": "image/png", "url": "javascript:alert(1)", "name": "bad"},
                  {"type": "Document", "mediaType": "video/mp4", "url": "https://remote.example/v.mp4"}]
    with app.app_context():
        alice, bob = _users(*people)
        with_images = note(bob, "", attachment=attachment)
        deliver(client, bob, activity(bob, "Create", with_images))
        post = stored(with_images["id"])
        assert json.loads(post.remote_attachments) == [
            {"url": "https://remote.example/media/1.png", "mediaType": "image/png", "name": "A cat",
             "width": 640, "height": 480, "blurhash": "LEHV6nWB2yk8"}]
        assert post.body == "A cat"  # no text: the image's description stands in
        post_id = post.id
        db.session.add(Instance(domain="remote.example", reject_media=True))
        db.session.commit()
        rejected = note(bob, "<p>more</p>", attachment=attachment)
        deliver(client, bob, activity(bob, "Create", rejected))
        assert stored(rejected["id"]).remote_attachments is None
    page = client.get(f"/post/{post_id}").get_data(as_text=True)
    assert 'href="https://remote.example/media/1.png"' in page and "A cat" in page
    assert 'src="https://remote.example' not in page  # the site's CSP allows no remote images


def test_a_question_is_stored_as_a_note_with_its_choices(app, client, people):
    with app.app_context():
        _alice, bob = _users(*people)
        poll = note(bob, "<p>Tea or coffee?</p>", type="Question",
                    oneOf=[{"type": "Note", "name": "Tea <script>x</script>"},
                           {"type": "Note", "name": "Coffee"}])
        deliver(client, bob, activity(bob, "Create", poll))
        post = stored(poll["id"])
        assert post.content_html == "<p>Tea or coffee?</p><ul><li>Tea</li><li>Coffee</li></ul>"
        assert post.body == "Tea or coffee?\n\nTea\nCoffee"


# -- hostile peers ----------------------------------------------------------------------------------
def test_a_note_attributed_to_someone_else_is_refused(app, client, people):
    with app.app_context():
        _alice, bob = _users(*people)
        carol = make_remote("carol")
        forged = note(carol, "<p>words put in carol's mouth</p>")
        forged["id"] = f"{bob.actor_uri}/statuses/forged"  # on the sender's host, attributed to carol
        deliver(client, bob, activity(bob, "Create", forged))
        several = note(bob, "<p>two authors</p>", attributedTo=[bob.actor_uri, carol.actor_uri])
        deliver(client, bob, activity(bob, "Create", several))
        assert stored(forged["id"]) is None and stored(several["id"]) is None
        row = db.session.scalar(sa.select(InboxActivity).order_by(InboxActivity.id))
        assert row.state == "done" and "not a post of the sender's" in row.error


def test_a_note_whose_id_is_on_another_host_is_ignored(app, client, people):
    with app.app_context():
        _alice, bob = _users(*people)
        elsewhere = note(bob, "<p>not mine to publish</p>")
        elsewhere["id"] = "https://other.example/statuses/1"
        deliver(client, bob, activity(bob, "Create", elsewhere))
        assert stored(elsewhere["id"]) is None
        assert fresh(bob).post_count == 0


def test_a_replayed_activity_is_processed_once(app, client, people):
    with app.app_context():
        _alice, bob = _users(*people)
        created = activity(bob, "Create", note(bob))
        deliver(client, bob, created)
        deliver(client, bob, created)
        deliver(client, bob, created, "/user/alice/inbox")
        again = activity(bob, "Create", created["object"])  # the same note in another activity
        deliver(client, bob, again)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
        assert fresh(bob).post_count == 1


# -- Update -------------------------------------------------------------------------------------------
def test_update_edits_the_post_and_keeps_the_old_version(app, client, people):
    with app.app_context():
        _alice, bob = _users(*people)
        original = note(bob, "<p>first version</p>")
        deliver(client, bob, activity(bob, "Create", original))
        post_id = stored(original["id"]).id
        assert "first version" in client.get(f"/post/{post_id}").get_data(as_text=True)  # a cached card
        edited = dict(original, content="<p>second <i>version</i></p>", updated="2026-12-01T11:00:00Z")
        deliver(client, bob, activity(bob, "Update", edited))
        page = client.get(f"/post/{post_id}").get_data(as_text=True)
        assert "second <i>version</i>" in page and "first version" not in page
        post = stored(original["id"])
        assert post.body == "second version" and post.content_html == "<p>second <i>version</i></p>"
        assert post.edited_at is not None
        history = list(db.session.scalars(sa.select(PostEdit).where(PostEdit.post_id == post.id)))
        assert [edit.body for edit in history] == ["first version"]
        # Someone else cannot edit it, even with its id and author copied.
        carol = make_remote("carol", "other.example")
        deliver(client, carol, activity(carol, "Update", dict(original, content="<p>hijacked</p>")))
        assert stored(original["id"]).body == "second version"
        # An edit of a post never received creates nothing.
        deliver(client, bob, activity(bob, "Update", note(bob, "<p>never seen</p>")))
        assert fresh(bob).post_count == 1


def test_update_of_the_actor_changes_the_profile(app, client, people):
    with app.app_context():
        _alice, bob = _users(*people)
        person = {"id": bob.actor_uri, "type": "Person", "preferredUsername": "bob", "name": "Bob <b>B.</b>",
                  "summary": "<p>I write <script>x()</script>things</p>", "url": "https://remote.example/@bob",
                  "icon": {"type": "Image", "url": "https://remote.example/avatar.png"},
                  "inbox": bob.inbox_url, "alsoKnownAs": ["https://old.example/users/bob"],
                  "publicKey": {"id": bob.key_id, "owner": bob.actor_uri, "publicKeyPem": PUBLIC_PEM}}
        deliver(client, bob, activity(bob, "Update", person))
        bob = fresh(bob)
        assert bob.display_name == "Bob B." and bob.about_me == "I write things"
        assert bob.avatar_url == "https://remote.example/avatar.png"
        # An inbox on another host is refused with the rest of that Update.
        moved = dict(person, name="Moved", inbox="https://evil.example/inbox")
        deliver(client, bob, activity(bob, "Update", moved))
        bob = fresh(bob)
        assert bob.inbox_url == "https://remote.example/users/bob/inbox" and bob.display_name == "Bob B."
        carol = make_remote("carol")
        deliver(client, carol, activity(carol, "Update", dict(person, name="Not Bob")))
        assert fresh(bob).display_name == "Bob B."
    response = client.get("/user/bob@remote.example")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-3000:]
    assert "Bob B." in page and "I write things" in page
    assert "View profile on remote.example" in page and 'href="https://remote.example/@bob"' in page
    assert 'src="https://remote.example/avatar.png"' not in page  # the CSP allows no remote images


# -- Delete -------------------------------------------------------------------------------------------
def test_delete_removes_the_post_with_its_counts(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        parent = make_post(alice, "local")
        reply = note(bob, "<p>reply</p>", inReplyTo=f"{SITE}/post/{parent.id}")
        deliver(client, bob, activity(bob, "Create", reply))
        assert db.session.get(Post, parent.id).reply_count == 1
        carol = make_remote("carol")
        deliver(client, carol, activity(carol, "Delete", reply["id"]))
        assert stored(reply["id"]) is not None  # not carol's to delete
        deliver(client, bob, activity(bob, "Delete", {"id": reply["id"], "type": "Tombstone"}))
        assert stored(reply["id"]) is None
        db.session.expire_all()
        assert db.session.get(Post, parent.id).reply_count == 0
        assert fresh(bob).post_count == 0


def test_delete_of_the_actor_removes_the_account_and_everything_of_it(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        make_follow(alice, bob)
        make_follow(bob, alice)
        mine = make_post(alice, "liked and reposted")
        deliver(client, bob, activity(bob, "Like", f"{SITE}/post/{mine.id}"))
        deliver(client, bob, activity(bob, "Announce", f"{SITE}/post/{mine.id}", to=[PUBLIC]))
        created = note(bob, "<p>soon gone</p>")
        deliver(client, bob, activity(bob, "Create", created))
        deliver(client, bob, activity(bob, "Delete", bob.actor_uri, to=[PUBLIC]))
        db.session.expire_all()
        assert db.session.get(User, people[1]) is None
        assert stored(created["id"]) is None
        alice = db.session.get(User, people[0])
        assert (alice.follower_count, alice.following_count) == (0, 0)
        post = db.session.get(Post, mine.id)
        assert (post.like_count, post.repost_count) == (0, 0)


# -- Like and Announce ------------------------------------------------------------------------------
def test_like_and_undo_count_and_notify(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        mine = make_post(alice, "likeable")
        liked = activity(bob, "Like", f"{SITE}/post/{mine.id}")
        deliver(client, bob, liked, "/user/alice/inbox")
        deliver(client, bob, activity(bob, "Like", f"{SITE}/post/{mine.id}"))  # twice: one like
        db.session.expire_all()
        assert db.session.get(Post, mine.id).like_count == 1
        assert _kinds(alice.id) == ["like"]
        notices = signed_in_client(app, "alice").get("/notifications")
        assert notices.status_code == 200 and "bob@remote.example" in notices.get_data(as_text=True)
        deliver(client, bob, activity(bob, "Undo", liked))
        db.session.expire_all()
        assert db.session.get(Post, mine.id).like_count == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Like)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_undo_of_someone_elses_like_changes_nothing(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        carol = make_remote("carol")
        mine = make_post(alice, "likeable")
        liked = activity(bob, "Like", f"{SITE}/post/{mine.id}")
        deliver(client, bob, liked)
        deliver(client, carol, activity(carol, "Undo", liked))
        db.session.expire_all()
        assert db.session.get(Post, mine.id).like_count == 1


def test_announce_and_undo_of_local_and_stored_remote_posts(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        carol = make_remote("carol", "other.example")
        make_follow(alice, carol)
        mine = make_post(alice, "worth sharing")
        shared = activity(carol, "Announce", f"{SITE}/post/{mine.id}", to=[PUBLIC])
        deliver(client, carol, shared)
        db.session.expire_all()
        assert db.session.get(Post, mine.id).repost_count == 1
        assert _kinds(alice.id) == ["repost"]
        # A remote post we have: reposted into the timelines of carol's local followers.
        theirs = note(bob, "<p>bob's words</p>")
        deliver(client, bob, activity(bob, "Create", theirs))
        deliver(client, carol, activity(carol, "Announce", theirs["id"], to=[PUBLIC]))
        assert stored(theirs["id"]).repost_count == 1
        # One we do not have is not fetched here.
        deliver(client, carol, activity(carol, "Announce", "https://third.example/notes/1", to=[PUBLIC]))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Announce)) == 2
        carol_id, mine_id = carol.id, mine.id
    home = signed_in_client(app, "alice").get("/index").get_data(as_text=True)
    assert "bob's words" in home and "carol@other.example" in home  # shown as carol's repost
    with app.app_context():
        carol = db.session.get(User, carol_id)
        deliver(client, carol, activity(carol, "Undo", shared))
        db.session.expire_all()
        assert db.session.get(Post, mine_id).repost_count == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


# -- Move ---------------------------------------------------------------------------------------------
def test_move_takes_the_local_followers_to_the_new_account(app, client, people):
    with app.app_context():
        alice, bob = _users(*people)
        dave = make_user("dave")
        make_follow(alice, bob)
        make_follow(dave, bob)
        impostor = make_remote("bob", "elsewhere.example")
        deliver(client, bob, activity(bob, "Move", bob.actor_uri, target=impostor.actor_uri))
        assert fresh(alice).is_following(fresh(bob))  # the target does not say it is bob: no move
        new = make_remote("bob", "new.example", also_known_as=json.dumps([bob.actor_uri]))
        deliver(client, bob, activity(bob, "Move", bob.actor_uri, target=new.actor_uri))
        db.session.expire_all()
        bob, new = _users(people[1], new.id)
        assert bob.moved_to_id == new.id
        # The new account is on another server: following it is a request its server answers.
        assert (bob.follower_count, new.follower_count) == (0, 0)
        assert db.session.execute(sa.select(followers.c.follower_id)).all() == []
        asked = set(db.session.execute(
            sa.select(FollowRequest.follower_id, FollowRequest.followed_id)).tuples())
        assert asked == {(alice.id, new.id), (dave.id, new.id)}
        assert fresh(alice).following_count == 0
