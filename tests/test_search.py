"""Full-text search: both backends through the same cases, the Whoosh index's failure modes, speed limits.

Every case runs with the Whoosh backend (on SQLite and on PostgreSQL) and with the PostgreSQL
backend (on PostgreSQL only: that combination is skipped on SQLite).
"""

from __future__ import annotations

import multiprocessing
import random
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from microblog import search
from microblog.extensions import db
from microblog.models import Post
from microblog.search.query import parse, words
from microblog.services import accounts, posts
from microblog.services import search as search_service
from tests.conftest import TestConfig
from tests.factories import make_post, make_user


@pytest.fixture(params=["whoosh", "postgres"])
def search_backend(request, database) -> str:
    if request.param == "postgres" and not database["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the postgres search backend needs PostgreSQL")
    return request.param


@pytest.fixture
def app(make_app, search_backend):
    return make_app(SEARCH_BACKEND=search_backend, POSTS_PER_PAGE=50)


@pytest.fixture
def whoosh_app(make_app, database):
    return make_app(SEARCH_BACKEND="whoosh", POSTS_PER_PAGE=50)


def publish(app, username: str, body: str) -> int:
    with app.app_context():
        author = accounts.get_user_by_username(username) or make_user(username)
        return posts.publish_post(author, body).id


def world_in(app) -> dict[str, int]:
    """A few people and posts, written through the services (so they are indexed after commit)."""
    with app.app_context():
        for name, about in (("alice", "Tea lover and runner"), ("bob", "Photographer"), ("carol", None)):
            user = make_user(name)
            accounts.update_profile(user, name, about)
    return {
        "a1": publish(app, "alice", "Green tea in the morning #tea"),
        "a2": publish(app, "alice", "Running by the river, then coffee"),
        "b1": publish(app, "bob", "Coffee is better than tea"),
        "b2": publish(app, "bob", "Photography walk: photos of the harbour #photo"),
        "c1": publish(app, "carol", "I ran and ran. Then a long walk"),
        "c2": publish(app, "carol", "<b>bold</b> tea & <script>alert(1)</script>"),
    }


@pytest.fixture
def world(app) -> dict[str, int]:
    return world_in(app)


def result_ids(client, q: str, **params) -> list[int]:
    response = client.get("/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.status_code
    return [int(n) for n in re.findall(r'id="post-(\d+)"', response.get_data(as_text=True))]


def people(client, q: str, **params) -> list[str]:
    html = client.get("/search", query_string={"q": q, **params}).get_data(as_text=True)
    return re.findall(r'<li class="list-group-item[^"]*">.*?href="/user/(\w+)"', html, re.DOTALL)


# -- syntax, on both backends -------------------------------------------------------------------
# Each list is checked in one test on one world (building a world per case cost most of this
# module's time); a failure lists every query that went wrong.
QUERY_SYNTAX = [
    ("tea", {"a1", "b1", "c2"}),
    ("coffee tea", {"b1"}),  # every word
    ("TEA Coffee", {"b1"}),  # case-blind
    ('"green tea"', {"a1"}),
    ('"tea green"', set()),
    ("green OR photography", {"a1", "b2"}),
    ("tea -coffee", {"a1", "c2"}),
    ('tea -"green tea"', {"b1", "c2"}),
    ("photo*", {"b2"}),
    ("harb*", {"b2"}),
    ("@bob", {"b1", "b2"}),
    ("@BOB coffee", {"b1"}),
    ("coffee -@bob", {"a2"}),
    ("@nobody", set()),
    ("@nobody tea", set()),
    ("#tea", {"a1"}),  # the hashtag, not the word
    ("#TEA", {"a1"}),
    ("#photo", {"b2"}),
    ("tea -#tea", {"b1", "c2"}),
    ("runs", {"a2"}),  # English stemming: runs, running -> run
    ("walks", {"b2", "c1"}),
    ('"running"', {"a2"}),  # quoted: exact
    ('"runs"', set()),
    ("bold", {"c2"}),  # PostgreSQL skips what looks like a tag, not the text between tags
    ("xylophone", set()),
]


def test_query_syntax(client, world):
    wrong = {}
    for q, expected in QUERY_SYNTAX:
        found, wanted = set(result_ids(client, q)), {world[k] for k in expected}
        if found != wanted:
            wrong[q] = {"found": sorted(found), "expected": sorted(wanted)}
    assert wrong == {}


def test_people_by_name_and_about_me(client, world):
    assert people(client, "tea") == ["alice"]
    assert people(client, "photographer") == ["bob"]
    assert people(client, "carol") == ["carol"]
    assert people(client, "@alice") == ["alice"]
    assert people(client, "car*") == ["carol"]
    assert people(client, "runners") == ["alice"]  # stemmed about-me


def test_people_are_searched_with_the_same_syntax_as_posts(app, client, world):
    """Phrases, exclusions, OR, @name, #tag and stems on people's own fields (name and about-me):
    on Whoosh, the one translator of whoosh_query run with USER_FIELDS."""
    with app.app_context():
        for name, about in (("dora", "Drinks green tea daily"), ("emil", "Grows tea, green beans too")):
            accounts.update_profile(make_user(name), name, about)
    cases = {
        '"green tea"': {"dora"},
        '"tea green"': {"emil"},
        "tea -green": {"alice"},
        'tea -"green tea"': {"alice", "emil"},
        "photographer OR runner": {"alice", "bob"},
        "beans OR photographer OR daily": {"bob", "dora", "emil"},
        "tea -@alice": {"dora", "emil"},
        "@emil tea": {"emil"},
        "#tea": {"alice", "dora", "emil"},
        "grow": {"emil"},  # stemmed: grows
        "gre* -daily": {"emil"},
    }
    for q, expected in cases.items():
        assert set(people(client, q)) == expected, q


def test_renaming_someone_updates_people_results(app, client, world):
    with app.app_context():
        accounts.update_profile(accounts.get_user_by_username("carol"), "caroline", "Gardener")
    assert people(client, "gardener") == ["caroline"]
    assert people(client, "carol") == []
    assert set(result_ids(client, "@caroline")) == {world["c1"], world["c2"]}


def test_newest_first(client, world):
    assert result_ids(client, "tea", sort="new") == [world["c2"], world["b1"], world["a1"]]


def test_best_match_first(app, client):
    mentions_once = publish(app, "dora", "tea was served at the long and rather dull meeting today")
    mentions_a_lot = publish(app, "dora", "tea, tea and more tea")
    publish(app, "dora", "coffee only")
    assert result_ids(client, "tea") == [mentions_a_lot, mentions_once]
    assert result_ids(client, "tea", sort="new") == [mentions_a_lot, mentions_once]


def test_edits_and_deletes_reach_the_index(app, client, world):
    with app.app_context():
        posts.edit_post(accounts.get_user_by_username("bob"), world["b1"], "Cocoa beats everything")
        posts.delete_post(accounts.get_user_by_username("alice"), world["a1"])
    assert set(result_ids(client, "tea")) == {world["c2"]}
    assert result_ids(client, "cocoa") == [world["b1"]]


def test_results_are_paginated_like_the_timelines(make_app, search_backend):
    app = make_app(SEARCH_BACKEND=search_backend, POSTS_PER_PAGE=3, USERS_PER_PAGE=2)
    client = app.test_client()
    ids = [publish(app, f"user{n}", f"kettle number {n}") for n in range(7)]
    with app.app_context():
        for n in range(7):
            accounts.update_profile(accounts.get_user_by_username(f"user{n}"), f"user{n}", "kettle fan")
    seen = []
    for number in (1, 2, 3):
        html = client.get("/search", query_string={"q": "kettle", "sort": "new", "page": number}).get_data(
            as_text=True)
        seen += [int(n) for n in re.findall(r'id="post-(\d+)"', html)]
        assert ('rel="next"' in html) == (number < 3)
        assert ('rel="prev"' in html) == (number > 1)
        if number < 3:
            assert f"page={number + 1}" in html and "sort=new" in html and "q=kettle" in html
    assert seen == ids[::-1]
    assert client.get("/search?q=kettle&page=4").status_code == 404
    assert client.get("/search?q=kettle&page=x").status_code == 404
    # People: a preview on the first page, all of them with type=people, paged too.
    assert 'href="/search?q=kettle&amp;type=people"' in client.get("/search?q=kettle").get_data(as_text=True)
    html = client.get("/search?q=kettle&type=people").get_data(as_text=True)
    assert 'rel="next"' in html and "id=\"post-" not in html


# -- many matches: the newest first, what the viewer may see, how deep pages go ---------------------
def test_only_the_newest_matches_are_ranked_and_all_are_found_newest_first(app, client):
    """The backends read the newest posts first (Whoosh the end of its index in stretches, PostgreSQL
    a window of the newest posts, then the older ones through GIN); made tiny here so that every
    step runs."""
    backend = app.extensions["search"]
    backend.rank_candidates = 4
    backend.min_stretch = 2  # Whoosh
    backend.recent_window = 4  # PostgreSQL
    old_best = publish(app, "dora", "kettle kettle kettle kettle")
    matching, both = [], []
    for n in range(8):
        matching.append(publish(app, "dora", f"a kettle on the stove number {n}"))
        both += [matching[-1], publish(app, "dora", f"a teapot on the table number {n}")]
    newest_best = publish(app, "dora", "kettle, kettle")
    assert result_ids(client, "kettle", sort="new") == [newest_best, *matching[::-1], old_best]
    assert result_ids(client, "teapot OR stove", sort="new") == both[::-1]
    assert result_ids(client, "kettle teapot", sort="new") == []
    # Best first among the newest four matches: the oldest and best one is not among them.
    assert result_ids(client, "kettle") == [newest_best, *matching[:-4:-1]]


@pytest.mark.slow
def test_the_whoosh_index_stays_in_the_order_posts_were_written(whoosh_app):
    """Searches read the newest posts at the end of the index: merges must keep that order."""
    ids = [publish(whoosh_app, "ivy", f"kettle number {n}") for n in range(40)]
    with whoosh_app.app_context():
        posts.edit_post(accounts.get_user_by_username("ivy"), ids[3], "kettle edited")  # moves to the end
        searcher = search.backend()._searcher("posts")
        segments = searcher.leaf_searchers()
        order = [pid for leaf, _ in segments for pid in
                 (leaf.reader().column_reader("pid")[n] for n in leaf.reader().all_doc_ids())]
    assert order == [*ids[:3], *ids[4:], ids[3]]
    assert len(segments) <= 7  # merged as it grows: about log2(posts) segments


def test_hidden_posts_and_blocked_people_are_left_out_and_pages_stay_full(make_app, search_backend):
    from microblog.services import blocks
    from microblog.timeutil import utcnow
    from tests.factories import DEFAULT_PASSWORD

    app = make_app(SEARCH_BACKEND=search_backend, POSTS_PER_PAGE=3)
    ids = [publish(app, "erin" if n % 2 else "finn", f"kettle number {n}") for n in range(9)]
    with app.app_context():
        for post_id in (ids[8], ids[6]):  # finn's two newest, hidden by a moderator
            db.session.get(Post, post_id).hidden_at = utcnow()
        db.session.commit()
        blocks.block_user(make_user("gus"), accounts.get_user_by_username("erin"))

    def pages(client) -> list[list[int]]:
        found = []
        for number in (1, 2, 3, 4):
            response = client.get("/search", query_string={"q": "kettle", "sort": "new", "page": number})
            if response.status_code == 404:
                break
            found.append([int(n) for n in re.findall(r'id="post-(\d+)"', response.get_data(as_text=True))])
        return found

    visible = [i for i in ids[::-1] if i not in (ids[8], ids[6])]
    assert pages(app.test_client()) == [visible[0:3], visible[3:6], visible[6:]]
    client = app.test_client()
    client.post("/auth/login", data={"username": "gus", "password": DEFAULT_PASSWORD})
    finns = [ids[4], ids[2], ids[0]]
    assert pages(client) == [finns]
    assert set(result_ids(client, "kettle")) == set(finns)
    with app.app_context():  # the author still finds their hidden post
        finn = accounts.get_user_by_username("finn")
        assert search_service.search_posts(parse("kettle"), 1, 3, "new", viewer=finn).items[0].id == ids[8]


def test_search_offers_the_first_max_results_and_says_so(make_app, search_backend, monkeypatch):
    monkeypatch.setattr(search_service, "MAX_RESULTS", 4)
    app = make_app(SEARCH_BACKEND=search_backend, POSTS_PER_PAGE=3)
    ids = [publish(app, "hana", f"kettle number {n}") for n in range(6)]
    client = app.test_client()
    notice = "Search shows only the first 4 matching posts."
    first = client.get("/search?q=kettle&sort=new").get_data(as_text=True)
    assert 'rel="next"' in first and notice not in first
    second = client.get("/search?q=kettle&sort=new&page=2")
    html = second.get_data(as_text=True)
    assert [int(n) for n in re.findall(r'id="post-(\d+)"', html)] == [ids[2]]
    assert 'rel="next"' not in html and notice in html
    beyond = client.get("/search?q=kettle&page=3")
    assert beyond.status_code == 200 and notice in beyond.get_data(as_text=True)
    assert 'id="post-' not in beyond.get_data(as_text=True)
    api = client.get("/api/search?q=kettle&sort=new&per_page=3&page=2").json
    assert [p["id"] for p in api["items"]] == [ids[2]] and api["_links"]["next"] is None
    # As many matches as the limit: nothing more to say.
    for n in range(4):
        publish(app, "hana", f"teapot number {n}")
    last = client.get("/search?q=teapot&page=2").get_data(as_text=True)
    assert len(re.findall(r'id="post-(\d+)"', last)) == 1 and notice not in last


# -- safety -----------------------------------------------------------------------------------------
def test_highlighting_marks_words_and_escapes_everything_else(client, world):
    html = client.get("/search?q=tea+OR+bold+OR+script").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;b&gt;<mark>bold</mark>&lt;/b&gt; <mark>tea</mark> &amp; &lt;<mark>script</mark>&gt;" in html
    assert "<mark>Green</mark>" not in html and "Green <mark>tea</mark>" in html


def test_highlighting_covers_stems_and_prefixes_but_not_exclusions(client, world):
    html = client.get("/search?q=runners+-coffee").get_data(as_text=True)
    assert "<mark>runner</mark>" in html  # alice's about-me, by its stem
    html = client.get("/search?q=runs").get_data(as_text=True)
    assert "<mark>Running</mark> by the river" in html
    html = client.get("/search?q=photo*").get_data(as_text=True)
    assert "<mark>Photography</mark> walk: <mark>photos</mark>" in html
    html = client.get("/search?q=tea+-coffee").get_data(as_text=True)
    assert "<mark>coffee</mark>" not in html.lower()


def test_links_in_results_stay_links_and_marks_stay_out_of_attributes(app, client):
    publish(app, "erin", "Read https://example.com/tea?x=1&y=2 about tea")
    html = client.get("/search?q=tea").get_data(as_text=True)
    assert 'href="https://example.com/tea?x=1&amp;y=2"' in html
    assert ">https://example.com/<mark>tea</mark>?x=1&amp;y=2</a>" in html


def test_the_query_is_echoed_escaped(client, world):
    html = client.get("/search", query_string={"q": '"><script>alert(1)</script>'}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


HOSTILE = [
    '"', '"""', '"tea', 'tea"', "*", "**", "***tea", "-", "--tea", "-tea", "OR", "OR OR tea", "AND", "|",
    "&&", "@", "#", "@@", "##", "@" + "a" * 100, "#" + "a" * 300, "a" * 10_000, "tea " * 3_000, "\x00",
    "tea\x00coffee",
    "\x00" * 100, "\u202e\u202d", "🙂", "日本語のテキスト", "tea " + "\u0301" * 50, "'; DROP TABLE post; --",
    "<script>alert(1)</script>", "%", "_", "\\", "tea:*", "'tea':*", "!tea", "tea & coffee", "tea <-> coffee",
    "(tea", "tea)", "x*", "ab*", "*ab", '"*"', '"-"', "-@nobody", "tea -tea", "tea OR -tea", "@alice@bob",
    "#!", "#_", "#__init__", "e-mail:*", " ".join(["tea"] * 100), "ß*", "İ", "ﬁ*",
]


def test_hostile_queries_never_fail(client, world):
    failed = []
    for q in HOSTILE:
        for params in ({"q": q}, {"q": q, "sort": "new"}, {"q": q, "type": "people"}):
            status = client.get("/search", query_string=params).status_code
            if status != 200:
                failed.append((params, status))
    assert failed == []


def test_malformed_query_strings_never_fail(client, world):
    raws = ["q=%FF%FE", "q=%00", "q=tea&q=coffee", "q=%C0%AF", "sort=old&q=tea", "type=x&q=tea"]
    assert {raw: client.get(f"/search?{raw}").status_code for raw in raws} == dict.fromkeys(raws, 200)


def test_an_empty_search_explains_the_syntax(client):
    html = client.get("/search").get_data(as_text=True)
    assert "How to search" in html and "@username" in html and "#tag" in html and "OR" in html


def test_a_search_with_nothing_to_look_for_says_so(client):
    html = client.get("/search?q=*").get_data(as_text=True)
    assert "There is nothing to search for" in html and "How to search" in html
    html = client.get("/search?q=-tea").get_data(as_text=True)
    assert "a minus sign only leaves things out" in html


def test_a_long_query_is_cut_with_a_notice(client, world):
    html = client.get("/search", query_string={"q": "tea " * 1000}).get_data(as_text=True)
    assert "only its first 256 characters were used" in html
    assert len(re.findall(r'id="post-(\d+)"', html)) == 3


def test_the_navbar_has_a_labelled_search_box(client):
    html = client.get("/explore").get_data(as_text=True)
    form = re.search(r'<form[^>]*role="search"[^>]*>.*?</form>', html, re.DOTALL).group(0)
    assert 'action="/search"' in form and 'method="get"' in form
    assert '<label for="navbar-search" class="visually-hidden">' in form
    assert 'id="navbar-search"' in form and 'name="q"' in form


# -- the index agrees with the database ----------------------------------------------------------
VOCABULARY = ["apple", "banana", "cherry", "plum", "quince"]


@pytest.mark.slow
def test_the_index_returns_exactly_what_the_database_holds(app, search_backend):
    rng = random.Random(20261124)
    with app.app_context():
        authors = [make_user(f"writer{n}") for n in range(3)]
        live: list[int] = []
        for _step in range(60):
            action = rng.random()
            body = " ".join(rng.sample(VOCABULARY, rng.randint(1, 3)))
            if action < 0.5 or not live:
                live.append(posts.publish_post(rng.choice(authors), body).id)
            elif action < 0.8:
                post = db.session.get(Post, rng.choice(live))
                posts.edit_post(post.author, post.id, body)
            else:
                post = db.session.get(Post, live.pop(rng.randrange(len(live))))
                posts.delete_post(post.author, post.id)
        db.session.expire_all()
        rows = db.session.execute(sa.select(Post.id, Post.body, Post.user_id)).all()
        for word in VOCABULARY:
            page = search_service.search_posts(parse(word), 1, 1000, sort="new")
            assert {p.id for p in page.items} == {r.id for r in rows if word in words(r.body)}, word
        author = authors[0]
        page = search_service.search_posts(parse(f"@{author.username}"), 1, 1000)
        assert {p.id for p in page.items} == {r.id for r in rows if r.user_id == author.id}
        if search_backend == "whoosh":
            assert search.document_ids("posts") == {r.id for r in rows}


def _index_posts_in_another_process(settings: dict, ids: list[int], start) -> None:
    from microblog import create_app

    app = create_app(TestConfig, settings)
    start.wait(30)
    with app.app_context():
        for post_id in ids:  # one commit each: as many chances as possible to collide
            search.index_posts(post_id)


@pytest.mark.slow
def test_two_processes_writing_the_whoosh_index_at_once_lose_nothing(whoosh_app):
    app = whoosh_app
    with app.app_context():
        search.reindex()  # an empty index
        author = make_user("prolific")
        ids = [make_post(author, f"parallel post {n}").id for n in range(60)]  # in the database only
        db.session.remove()
        db.engine.dispose()
    settings = {key: app.config[key] for key in (
        "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "INSTANCE_DIR", "WHOOSH_INDEX_DIR")}
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_index_posts_in_another_process, args=(settings, ids[i::2], start))
               for i in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with app.app_context():
        assert search.document_ids("posts") == set(ids)
        assert len(search_service.search_posts(parse("parallel"), 1, 100).items) == 60


# -- a missing or broken Whoosh index ---------------------------------------------------------------
def _current_generation(app) -> Path:
    index_dir = Path(app.config["WHOOSH_INDEX_DIR"])
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def test_a_missing_index_is_rebuilt_and_search_says_so(whoosh_app):
    app, client = whoosh_app, whoosh_app.test_client()
    world = world_in(app)
    shutil.rmtree(app.config["WHOOSH_INDEX_DIR"])
    response = client.get("/search?q=tea")
    assert response.status_code == 503
    assert "Search is being rebuilt" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]
    # The rebuild job ran (jobs are synchronous in tests): search works again.
    assert set(result_ids(client, "tea")) == {world["a1"], world["b1"], world["c2"]}
    assert people(client, "photographer") == ["bob"]


def test_a_corrupt_index_is_rebuilt_and_search_says_so(whoosh_app):
    app, client = whoosh_app, whoosh_app.test_client()
    world = world_in(app)
    for path in _current_generation(app).iterdir():
        if path.is_file():
            path.write_bytes(b"\x00garbage" * 10)
    response = client.get("/search?q=coffee")
    assert response.status_code == 503
    assert "Search is being rebuilt" in response.get_data(as_text=True)
    assert set(result_ids(client, "coffee")) == {world["a2"], world["b1"]}


def test_an_index_of_an_older_layout_is_rebuilt(whoosh_app):
    """An index built before posts were kept in write order has no FORMAT file: reading it newest
    first would give a wrong order, so it is rebuilt as a broken one would be."""
    app, client = whoosh_app, whoosh_app.test_client()
    world = world_in(app)
    old = _current_generation(app)
    (old / "FORMAT").unlink()
    response = client.get("/search?q=coffee")
    assert response.status_code == 503
    assert "Search is being rebuilt" in response.get_data(as_text=True)
    assert _current_generation(app) != old
    assert (_current_generation(app) / "FORMAT").read_text() == "2"
    assert set(result_ids(client, "coffee")) == {world["a2"], world["b1"]}


@pytest.mark.parametrize("state", ["no index yet", "empty index", "people but no posts"])
def test_a_new_site_answers_searches_with_no_results_and_no_rebuild(whoosh_app, monkeypatch, state):
    """An empty index is a valid one: no 503, and no rebuild started by every search."""
    from microblog.search.whoosh_backend import WhooshBackend

    app, client = whoosh_app, whoosh_app.test_client()
    with app.app_context():
        if state == "people but no posts":
            accounts.update_profile(make_user("alice"), "alice", "Tea lover")
        if state != "no index yet":
            search.reindex()
    rebuilds = []
    monkeypatch.setattr(WhooshBackend, "rebuild", lambda self, **kwargs: rebuilds.append(kwargs))
    for _ in range(3):
        assert result_ids(client, "tea") == []
        assert result_ids(client, "tea", sort="new") == []
        for path in ("/api/search", "/api/search/people"):
            response = client.get(path, query_string={"q": "coffee"})
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.get_json()["items"] == []
    assert people(client, "tea") == (["alice"] if state == "people but no posts" else [])
    assert rebuilds == []


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
@pytest.mark.slow
def test_posting_works_whatever_state_the_index_is_in(whoosh_app, damage):
    app, client = whoosh_app, whoosh_app.test_client()
    world_in(app)
    if damage == "missing":
        shutil.rmtree(app.config["WHOOSH_INDEX_DIR"])
    else:
        for path in _current_generation(app).iterdir():
            if path.is_file():
                path.write_bytes(b"\x00garbage")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    response = client.post("/", data={"post": "Brand new zeppelin post"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Post.body.contains("zeppelin"))) == 1
    # Writing the post noticed the damage and rebuilt the index, which now has the new post.
    assert len(result_ids(client, "zeppelin")) == 1


def test_an_index_failure_after_commit_is_logged_not_a_500(whoosh_app, monkeypatch, caplog):
    from microblog.search.whoosh_backend import WhooshBackend

    def broken(self, kind, ids):
        raise OSError("No space left on device")

    monkeypatch.setattr(WhooshBackend, "sync", broken)
    app, client = whoosh_app, whoosh_app.test_client()
    with app.app_context():
        make_user("alice")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    response = client.post("/", data={"post": "This post must survive"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
    assert "No space left on device" in caplog.text


def test_a_rebuild_keeps_changes_made_while_it_runs(whoosh_app):
    """A post created, edited or deleted in the middle of a rebuild ends up right in the new index."""
    app = whoosh_app
    with app.app_context():
        author = make_user("busy")
        early = [posts.publish_post(author, f"early lemon {n}").id for n in range(5)]
        changes = []

        def meanwhile(kind: str, _count: int) -> None:
            if kind == "posts" and not changes:  # after the first batch of posts
                changes.append(posts.publish_post(author, "late lemon").id)
                posts.edit_post(author, early[0], "edited lime")
                posts.delete_post(author, early[4])

        search.backend().rebuild(progress=meanwhile, batch_size=2)
        found = {p.id for p in search_service.search_posts(parse("lemon"), 1, 100).items}
        assert found == {*early[1:4], changes[0]}
        assert [p.id for p in search_service.search_posts(parse("lime"), 1, 100).items] == [early[0]]
        assert search.document_ids("posts") == {*early[:4], changes[0]}


@pytest.mark.slow
def test_flask_search_reindex(whoosh_app):
    app = whoosh_app
    world = world_in(app)
    shutil.rmtree(app.config["WHOOSH_INDEX_DIR"])
    result = app.test_cli_runner().invoke(args=["search", "reindex", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Indexed 6 posts and 3 people" in result.output
    assert set(result_ids(app.test_client(), "tea")) == {world["a1"], world["b1"], world["c2"]}


# -- settings and the PostgreSQL backend ------------------------------------------------------------
def test_unknown_or_impossible_backends_refuse_to_start(make_app, database):
    with pytest.raises(RuntimeError, match="SEARCH_BACKEND"):
        make_app(create_tables=False, SEARCH_BACKEND="elastic")
    if database["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with pytest.raises(RuntimeError, match="PostgreSQL"):
            make_app(create_tables=False, SEARCH_BACKEND="postgres")


def test_postgres_searches_use_the_gin_indexes(app, search_backend):
    if search_backend != "postgres":
        pytest.skip("PostgreSQL backend only")
    from sqlalchemy.dialects import postgresql

    from microblog.models import User
    from microblog.search.postgres_backend import post_condition, user_condition

    with app.app_context():
        db.session.execute(sa.text("SET enable_seqscan = off"))
        for query, expected in (
            (sa.select(Post.id).where(post_condition(parse("tea").node, "fr")),
             {"ix_post_search_simple", "ix_post_search_stemmed"}),
            (sa.select(Post.id).where(post_condition(parse('photo* OR "green tea"').node, "fr")),
             {"ix_post_search_simple"}),
            (sa.select(User.id).where(user_condition(parse("tea").node)),
             {"ix_user_fts_simple", "ix_user_fts_stemmed"}),
        ):
            sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            plan = "\n".join(db.session.scalars(sa.text("EXPLAIN " + sql)))
            for index in expected:
                assert index in plan, plan


def test_page_language_stemming(app, client):
    french = publish(app, "zoe", "Elle parlait de ses vacances à la montagne avec ses amis")
    with app.app_context():
        assert db.session.get(Post, french).language == "fr"
    assert result_ids(client, "parler") == []  # an English page does not stem French
    response = client.get("/search?q=parler", headers={"Accept-Language": "fr"})
    assert [int(n) for n in re.findall(r'id="post-(\d+)"', response.get_data(as_text=True))] == [french]
    assert "<mark>parlait</mark>" in response.get_data(as_text=True)
