"""Who to follow (services/suggestions.py): friends of friends ranked by how many of the people you
follow follow them, then active accounts by followers; who is never suggested; the per-person cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Mute, Post, User
from microblog.services import blocks, follows, mutes, suggestions
from microblog.timeutil import utcnow
from tests.factories import make_block, make_follow, make_post, make_user


def names(found) -> list[str]:
    return [s.username for s in found]


def user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


@pytest.fixture
def graph(app):
    """alice follows bob, cat and dan. bob, cat and dan all follow eve; bob and cat follow fay; dan
    follows gus. hal posted today and has two followers; ivy posted a month ago; jon posted today."""
    with app.app_context():
        people = {n: make_user(n) for n in
                  ("alice", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim")}
        for friend in ("bob", "cat", "dan"):
            make_follow(people["alice"], people[friend])
            make_follow(people[friend], people["eve"])
        make_follow(people["bob"], people["fay"])
        make_follow(people["cat"], people["fay"])
        make_follow(people["dan"], people["gus"])
        make_follow(people["jon"], people["hal"])
        make_follow(people["kim"], people["hal"])
        make_post(people["hal"])
        make_post(people["jon"])
        make_post(people["ivy"], timestamp=utcnow() - timedelta(days=30))
    return app


def test_friends_of_friends_come_first_ranked_by_how_many_then_active_accounts(graph):
    with graph.app_context():
        found = suggestions.compute(user("alice"))
        assert names(found) == ["eve", "fay", "gus", "hal", "jon"]
        assert [s.followed_by for s in found] == [3, 2, 1, 0, 0]
        # ivy posted a month ago, kim never: neither is "active"; the people alice follows are left out.


def test_a_visitor_gets_the_active_accounts_most_followed_first(graph):
    with graph.app_context():
        assert names(suggestions.compute(None)) == ["hal", "jon"]


@pytest.mark.parametrize("limit, expected", [(2, ["eve", "fay"]), (4, ["eve", "fay", "gus", "hal"])])
def test_one_statement_whatever_the_limit(graph, limit, expected):
    with graph.app_context():
        alice = user("alice")
        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert names(suggestions.compute(alice, limit=limit)) == expected
        assert len(statements) == 1, statements


def test_an_account_both_followed_by_friends_and_active_is_suggested_once(graph):
    with graph.app_context():
        make_post(user("eve"))
        found = suggestions.compute(user("alice"))
        assert names(found) == ["eve", "fay", "gus", "hal", "jon"]
        assert found[0].followed_by == 3


@pytest.mark.parametrize("exclude", ["follows", "blocked", "blocked_by", "muted", "suspended"])
def test_who_is_never_suggested(graph, exclude):
    with graph.app_context():
        alice, eve, hal = user("alice"), user("eve"), user("hal")
        for other in (eve, hal):
            if exclude == "follows":
                make_follow(alice, other)
            elif exclude == "blocked":
                make_block(alice, other)
            elif exclude == "blocked_by":
                make_block(other, alice)
            elif exclude == "muted":
                db.session.add(Mute(muter_id=alice.id, muted_id=other.id))
            else:
                other.suspended_at = utcnow()
            db.session.commit()
        found = names(suggestions.compute(user("alice")))
        assert "eve" not in found and "hal" not in found and "alice" not in found
        assert "fay" in found and "jon" in found


def test_hidden_and_followers_only_posts_do_not_make_an_account_active(graph):
    with graph.app_context():
        db.session.execute(sa.update(Post).where(Post.user_id == user("jon").id).values(hidden_at=utcnow()))
        db.session.commit()
        assert names(suggestions.compute(None)) == ["hal"]


def test_the_answer_is_cached_and_following_someone_asks_again(graph):
    with graph.app_context():
        alice = user("alice")
        first = suggestions.who_to_follow(alice, 3)
        assert names(first) == ["eve", "fay", "gus"]
        # A new follow among alice's friends: the cached answer does not see it yet.
        make_follow(user("dan"), user("fay"))
        alice = user("alice")
        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert suggestions.who_to_follow(alice, 3) == first
        assert statements == []
        follows.follow(alice, user("eve"))
        assert names(suggestions.who_to_follow(user("alice"), 3)) == ["fay", "gus", "hal"]


def test_another_process_sees_the_new_following_count(graph):
    """Following from another process changes following_count, which is part of the cache's key."""
    with graph.app_context():
        alice = user("alice")
        assert names(suggestions.who_to_follow(alice, 1)) == ["eve"]
        make_follow(alice, user("eve"))  # as another process would: this one's cache is not told
        db.session.refresh(alice)
        assert names(suggestions.who_to_follow(alice, 1)) == ["fay"]


def test_blocking_and_muting_forget_the_cached_answer(graph):
    with graph.app_context():
        alice = user("alice")
        assert names(suggestions.who_to_follow(alice, 2)) == ["eve", "fay"]
        mutes.mute(alice, user("eve"))
        assert names(suggestions.who_to_follow(user("alice"), 2)) == ["fay", "gus"]
        blocks.block_user(user("fay"), alice)
        assert names(suggestions.who_to_follow(user("alice"), 2)) == ["gus", "hal"]


def test_the_cache_expires(graph, monkeypatch):
    with graph.app_context():
        alice = user("alice")
        assert names(suggestions.who_to_follow(alice, 1)) == ["eve"]
        make_user("zed")
        make_follow(user("bob"), user("zed"))
        make_follow(user("cat"), user("zed"))
        make_follow(user("dan"), user("zed"))
        make_follow(user("kim"), user("zed"))  # zed: followed by 3 of alice's, and has more followers
        assert names(suggestions.who_to_follow(alice, 1)) == ["eve"]
        graph.config["SUGGESTIONS_CACHE_SECONDS"] = 0
        assert names(suggestions.who_to_follow(alice, 1)) == ["zed"]
