"""Hashtags: filing posts under tags (any case, any script), tag pages, keyset paging, trending."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Mute, Post, PostTag, Tag, User, Visibility
from microblog.services import posts, tags
from microblog.timeutil import utcnow
from tests.factories import make_block, make_user


def post_ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="post-(\d+)"', html)]


def publish(user, body, **changes) -> int:
    post = posts.publish_post(user, body)
    for name, value in changes.items():
        setattr(post, name, value)
    if changes:
        tags.refile_post(post)
        db.session.commit()
    return post.id


def tag_names_of(post_id: int) -> set[str]:
    query = sa.select(Tag.name).join(PostTag, PostTag.tag_id == Tag.id).where(PostTag.post_id == post_id)
    return set(db.session.scalars(query))


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


def test_tags_are_case_insensitive_and_filed_once(app, client, alice):
    with app.app_context():
        author = db.session.get(User, alice)
        first = publish(author, "I like #Tea and #TEA and #tea")
        second = publish(author, "more #tEa please")
        assert tag_names_of(first) == {"tea"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 1
        row = db.session.get(PostTag, (first, db.session.scalar(sa.select(Tag.id))))
        assert row.user_id == alice and row.timestamp == db.session.get(Post, first).timestamp
    html = client.get("/tags/Tea").get_data(as_text=True)
    assert post_ids_on(html) == [second, first]
    assert client.get("/tags/TEA").status_code == 200


@pytest.mark.parametrize("body, tag", [
    ("مرحبا #قهوة_الصباح", "قهوة_الصباح"),
    ("今日は#お茶を飲む", "お茶を飲む"),
    ("我爱 #中文 标签", "中文"),
])
def test_tags_in_arabic_japanese_and_chinese(app, client, alice, body, tag):
    with app.app_context():
        post_id = publish(db.session.get(User, alice), body)
        assert tag_names_of(post_id) == {tag}
    response = client.get(f"/tags/{tag}")
    assert response.status_code == 200
    assert post_ids_on(response.get_data(as_text=True)) == [post_id]


@pytest.mark.parametrize("name", ["x" * 1000, "a" * 101, "#tea", "123", "a b", "..", "tea%00"])
def test_names_that_are_not_tags_are_404(client, name):
    assert client.get(f"/tags/{name}").status_code == 404
    assert client.get(f"/tags/{name}/feed.atom").status_code == 404


def test_an_unknown_tag_is_an_empty_page(client):
    response = client.get("/tags/nothinghere")
    assert response.status_code == 200
    assert "No public posts are tagged #nothinghere yet." in response.get_data(as_text=True)


def test_tag_pages_leave_out_unlisted_followers_only_hidden_and_blocked_or_muted(app, client, auth, alice):
    with app.app_context():
        me = db.session.get(User, alice)
        bob, carol, dave = make_user("bob"), make_user("carol"), make_user("dave")
        shown = publish(bob, "public #news")
        publish(bob, "unlisted #news", visibility=Visibility.UNLISTED.value)
        publish(bob, "followers #news", visibility=Visibility.FOLLOWERS.value)
        publish(bob, "hidden #news", hidden_at=utcnow())
        blocked = publish(carol, "blocked author #news")
        muted = publish(dave, "muted author #news")
        make_block(me, carol)
        db.session.add(Mute(muter_id=me.id, muted_id=dave.id))
        db.session.commit()
    assert post_ids_on(client.get("/tags/news").get_data(as_text=True)) == [muted, blocked, shown]
    auth.login()
    assert post_ids_on(client.get("/tags/news").get_data(as_text=True)) == [shown]


def test_edits_refile_tags(app, alice):
    with app.app_context():
        author = db.session.get(User, alice)
        post_id = publish(author, "#one #two")
        posts.edit_post(author, post_id, "#two #three")
        assert tag_names_of(post_id) == {"two", "three"}


def test_a_deep_tag_page_by_cursor(make_app):
    app = make_app(POSTS_PER_PAGE=3)
    client = app.test_client()
    with app.app_context():
        author = make_user("writer")
        start = utcnow() - timedelta(hours=1)
        ids = []
        for i in range(10):
            post = Post(body=f"number {i} #deep", author=author, timestamp=start + timedelta(minutes=i))
            db.session.add(post)
            db.session.flush()
            tags.file_post(post)
            ids.append(post.id)
        db.session.commit()
    seen, url = [], "/tags/deep"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += post_ids_on(html)
        match = re.search(r'rel="next" href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "before=" in url
    assert seen == ids[::-1]
    assert client.get("/tags/deep?before=forged").status_code == 404


def test_trending_counts_distinct_people_in_the_last_day(make_app):
    app = make_app(TRENDING_CACHE_SECONDS=0)
    with app.app_context():
        ann, ben, cat = make_user("ann"), make_user("ben"), make_user("cat")
        for _ in range(5):
            publish(ann, "#solo again")  # one person, many posts
        publish(ann, "#shared")
        publish(ben, "#shared")
        publish(cat, "#shared #pair")
        publish(ben, "#pair")
        publish(cat, "#quiet", visibility=Visibility.UNLISTED.value)
        old = publish(ben, "#old")
        publish(cat, "#old")
        db.session.execute(sa.update(PostTag).where(PostTag.post_id == old)
                           .values(timestamp=utcnow() - timedelta(hours=25)))
        db.session.commit()
        result = [(item.name, item.people) for item in tags.trending(10)]
        assert result == [("shared", 3), ("pair", 2), ("old", 1), ("solo", 1)]
    explore = app.test_client().get("/explore").get_data(as_text=True)
    assert 'href="/tags/shared"' in explore and "3 people" in explore
    assert 'href="/tags/quiet"' not in explore  # unlisted posts do not trend


def test_posts_bringing_the_same_new_tag_at_once_all_succeed(app):
    """Eight people post the same new tag at the same instant: one Tag row, eight posts filed."""
    count = 8
    with app.app_context():
        ids = [make_user(f"racer{i}").id for i in range(count)]
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(user_id: int) -> None:
        with app.app_context():
            author = db.session.get(User, user_id)
            barrier.wait()
            try:
                posts.publish_post(author, "first to say #BrandNew and #another")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        assert set(db.session.scalars(sa.select(Tag.name))) == {"brandnew", "another"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PostTag)) == 2 * count


def test_tag_pages_use_few_statements_whatever_the_depth(make_app):
    app = make_app(POSTS_PER_PAGE=5)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
        authors = [make_user(f"author{i}") for i in range(4)]
        start = utcnow() - timedelta(hours=3)
        for i in range(60):
            post = Post(body=f"n {i} #busy", author=authors[i % 4], timestamp=start + timedelta(minutes=i))
            db.session.add(post)
            db.session.flush()
            tags.file_post(post)
        db.session.commit()
        engine = db.engine
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})

    def statements(path: str) -> tuple[int, str]:
        client.get(path)  # warm what a process caches
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            html = client.get(path).get_data(as_text=True)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        return len(seen), html

    first, html = statements("/tags/busy")
    assert first <= 6
    for _ in range(6):
        url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        count, html = statements(url)
        assert count == first
