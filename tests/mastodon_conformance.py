"""What the Mastodon API's conformance tests share (test_mastodon_fuzz.py, test_mastodon_matrix.py): a few
people with posts, a like, a follow, a bookmark, a reply, uploads and notifications, and tokens of
any scope, issued through the OAuth service rather than the consent page (that flow has its own tests)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Notification, User
from microblog.services import follows, media, oauth, posts, reactions
from tests.factories import make_user
from tests.media_samples import jpeg_bytes

# Every scope a user's token can have, short of the admin ones.
FULL_SCOPE = "read write follow push profile"
REDIRECT_URI = "https://app.example/callback"


def issue_token(user: User, scope: str = FULL_SCOPE) -> str:
    """A user's access token with ``scope``, from an app that may ask for it (inside an app context)."""
    application, _secret = oauth.register_application("Conformance", [REDIRECT_URI], scope, None)
    request = oauth.AuthorizationRequest(application, REDIRECT_URI, scope.split(), None, None, None)
    code = oauth.grant_code(user, request)
    token = oauth.exchange_code(application, code, REDIRECT_URI, None).access_token
    return token


@dataclass(frozen=True)
class Seeded:
    """The ids of what ``seed`` made: alice is the token's user; bob and carol are other people."""

    alice: int
    bob: int
    carol: int
    alice_post: int
    bob_post: int
    bob_private_post: int  # followers-only, and alice does not follow bob
    bob_reply: int  # bob's reply to alice_post
    alice_media: int
    bob_media: int
    alice_notification: int
    bob_notification: int


def seed() -> Seeded:
    """alice, bob and carol, with posts, likes, a follow each way, a bookmark, a reply, one upload
    each and notifications (inside an app context, on empty tables)."""
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    alice_post = posts.publish_post(alice, "hello from alice #conformance")
    bob_post = posts.publish_post(bob, "hello from bob")
    bob_private = posts.publish_post(bob, "for bob's followers only", visibility="followers")
    posts.publish_post(carol, "hello from carol")
    bob_reply = posts.publish_post(bob, "@alice hello back", in_reply_to=alice_post.id)
    follows.follow(bob, alice)  # alice is told
    follows.follow(alice, carol)
    follows.follow(carol, bob)  # bob is told
    reactions.like(bob, alice_post.id)
    reactions.like(alice, bob_post.id)
    reactions.bookmark(alice, bob_post.id)
    alice_media = media.upload_media(alice, jpeg_bytes(), "a red square")
    bob_media = media.upload_media(bob, jpeg_bytes(), "bob's square")

    def first_notification(user: User) -> int:
        found = db.session.scalar(sa.select(sa.func.min(Notification.id))
                                  .where(Notification.user_id == user.id))
        assert found is not None, f"{user.username} has no notification to test with"
        return found

    return Seeded(alice=alice.id, bob=bob.id, carol=carol.id, alice_post=alice_post.id, bob_post=bob_post.id,
                  bob_private_post=bob_private.id, bob_reply=bob_reply.id, alice_media=alice_media.id,
                  bob_media=bob_media.id, alice_notification=first_notification(alice),
                  bob_notification=first_notification(bob))
