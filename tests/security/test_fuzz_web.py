"""Property-based fuzzing of the web forms and of every page's query string (hypothesis).

Each test builds one real app (SQLite, and PostgreSQL when configured) with a few accounts, posts and
messages, then sends it generated requests through the test client, signed out, as a user and as an
admin. Whatever comes in, no response is a 5xx, and a form that is turned down writes no row.

The examples are derandomized (the same cases on every run) and counted (tests/fuzzcount.py);
``FUZZ_WEB_EXAMPLES`` scales each test's example count (default 1; 0.1 for a quick look).
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from microblog import search
from microblog.extensions import db
from microblog.models import (
    ABOUT_ME_MAX,
    EMAIL_MAX,
    REASON_MAX,
    USERNAME_MAX,
    Message,
    Notification,
    OutboxMessage,
    Post,
    Report,
    User,
)
from microblog.paging import encode_cursor
from microblog.signed_tokens import reset_token
from tests.factories import DEFAULT_PASSWORD, make_follow, make_message, make_post, make_user

SCALE = float(os.environ.get("FUZZ_WEB_EXAMPLES", "1"))


def fuzz_settings(examples: int):
    """Reproducible (derandomized), no per-example deadline, and one app for all of a test's examples."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        derandomize=True,
        database=None,
        deadline=None,
        # The fixtures (one app and its database per test) are built once and shared by the examples
        # on purpose: each example checks what it changed, so none relies on a fresh database.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )


# -- values ------------------------------------------------------------------------------------
# Text a browser could send: any code point but lone surrogates (not encodable as UTF-8).
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
NASTY = [
    "", " ", "\t", "\x00", "a\x00b", "\r\n", "\u202e", "\ufeff", "\u200b", "<script>alert(1)</script>",
    "' OR 1=1 --", "\"; DROP TABLE user; --", "%00", "%", "../../etc/passwd", "${7*7}", "{{7*7}}",
    "😀" * 40, "é" * 300, "x" * 5000, "NaN", "-1", "0", "1e309", "null", "[]", "{}", "true",
]


def around(limit: int) -> st.SearchStrategy[str]:
    """Strings of about ``limit`` characters: one short, exact, one over (plain and multi-byte)."""
    return st.integers(limit - 1, limit + 1).flatmap(
        lambda n: st.sampled_from(["a", "é", "😀", "_", " "]).map(lambda ch: ch * n))


def text_for(limit: int | None = None) -> st.SearchStrategy[str]:
    options = [ANY_TEXT, st.sampled_from(NASTY)]
    if limit is not None:
        options.append(around(limit))
    return st.one_of(*options)


def field_value(values: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """A field left out (None), sent once, or sent twice with different values."""
    return st.one_of(st.none(), values, values, st.lists(values, min_size=2, max_size=2))


NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 200).map(str),
    st.sampled_from(["1", "2", "100000", "100001", "2147483647", "2147483648", "9223372036854775808",
                     "01", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "١", "²", "½", "-0"]),
)


@dataclass
class Site:
    """The app under fuzz, its people, and clients for each kind of visitor."""

    app: Flask
    alice: FlaskClient  # a user
    admin: FlaskClient  # an administrator
    bob_post_id: int
    report_post_id: int
    alice_id: int
    ids: dict[str, int] = field(default_factory=dict)

    def client(self, who: str) -> FlaskClient:
        """A fresh client for a visitor (so a sign-in by the fuzzer does not stick), else the user's."""
        return {"anonymous": self.app.test_client(), "alice": self.alice, "admin": self.admin}[who]

    def count(self, table) -> int:
        with self.app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(table))

    def cursor(self, moment: datetime, row_id: int, page: int) -> str:
        with self.app.test_request_context():
            return encode_cursor((moment, row_id), page)


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


@pytest.fixture
def site(app: Flask) -> Site:
    with app.app_context():
        alice = make_user("alice")
        bob = make_user("bob", about_me="bob's page")
        make_user("root", role="admin")
        make_user("mod", role="moderator")
        for n in range(30):  # more than a page of posts (and, below, of messages)
            make_post(bob, f"bob says hello number {n} #fuzz")
        for n in range(3):
            other = make_user(f"fan{n}")
            make_follow(other, bob)
        make_follow(alice, bob)
        for n in range(25):
            make_message(bob, alice, f"message {n}")
        post = make_post(bob, "a post to report")
        report_post_id = post.id
        bob_post_id = make_post(bob, "hello world").id
        alice_id = alice.id
        search.reindex()  # a missing index is a deliberate 503 (rebuilding): start with one
    return Site(app=app, alice=signed_in(app, "alice"), admin=signed_in(app, "root"),
                bob_post_id=bob_post_id, report_post_id=report_post_id, alice_id=alice_id)


def to_multidict(data: dict[str, Any]) -> MultiDict:
    pairs: list[tuple[str, str]] = []
    for name, value in data.items():
        if value is None:
            continue
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, one))
    return MultiDict(pairs)


def submit(client: FlaskClient, path: str, data: dict[str, Any], encoding: str):
    """POST the fields as a browser would (urlencoded or multipart), or as a stray JSON body."""
    form = to_multidict(data)
    if encoding == "json":
        return client.post(path, json={k: v for k, v in data.items() if v is not None})
    if encoding == "multipart":
        return client.post(path, data=form, content_type="multipart/form-data")
    return client.post(path, data=form)


ENCODINGS = st.sampled_from(["urlencoded", "urlencoded", "multipart", "json"])


def assert_no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


# -- forms -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FormCase:
    """A form: where it is posted, who posts it, its fields, and what a refusal must leave unchanged."""

    name: str
    path: Callable[[Site], str]
    who: str  # "anonymous", "alice" or "admin"
    fields: dict[str, st.SearchStrategy[Any]]
    tables: tuple = ()
    # More of what must not change, beyond row counts (e.g. the account a refused edit names).
    state: Callable[[Site], Any] | None = None


def alice_profile(site: Site) -> tuple:
    with site.app.app_context():
        user = db.session.get(User, site.alice_id)
        return (user.username, user.about_me, user.locale, user.timezone,
                user.notify_new_follower, user.notify_new_message)


USERNAMES = st.one_of(text_for(USERNAME_MAX), st.from_regex(r"\A[A-Za-z0-9_]{1,34}\Z"),
                      st.sampled_from(["alice", "ALICE", "Bob", "root", "new_name"]))
EMAILS = st.one_of(text_for(EMAIL_MAX), st.emails().filter(lambda e: len(e) < 300),
                   st.sampled_from(["alice@example.com", "BOB@EXAMPLE.COM", "a@b", "@", "x@" + "y" * 260]))
PASSWORDS = st.one_of(text_for(128), st.sampled_from(["password", "correct-horse", "short", "p" * 129]))
LOCALES = st.one_of(st.sampled_from(["", "en", "fr", "ar", "zh_CN", "pt_BR", "xx", "en_US"]), ANY_TEXT)
ZONES = st.one_of(
    st.sampled_from(["", "UTC", "Europe/Paris", "America/Argentina/ComodRivadavia", "Mars/Base"]), ANY_TEXT
)
FLAGS = st.sampled_from(["y", "n", "", "on", "false"])
REASONS = text_for(REASON_MAX)

FORMS = [
    FormCase("sign-up", lambda s: "/auth/register", "anonymous",
             {"username": USERNAMES, "email": EMAILS, "password": PASSWORDS, "password2": PASSWORDS},
             (User,)),
    FormCase("login", lambda s: "/auth/login", "anonymous",
             {"username": USERNAMES, "password": PASSWORDS, "remember_me": FLAGS}, (User,)),
    FormCase("reset request", lambda s: "/auth/reset_password_request", "anonymous", {"email": EMAILS},
             (OutboxMessage,)),
    FormCase("reset password", lambda s: f"/auth/reset_password/{s.ids['reset_token']}", "anonymous",
             {"password": PASSWORDS, "password2": PASSWORDS}),
    FormCase("post", lambda s: "/index", "alice", {"post": text_for(280)}, (Post,)),
    FormCase("edit profile", lambda s: "/edit_profile", "alice",
             {"username": USERNAMES, "about_me": text_for(ABOUT_ME_MAX), "locale": LOCALES,
              "timezone": ZONES, "notify_new_follower": FLAGS, "notify_new_message": FLAGS},
             (User,), state=alice_profile),
    FormCase("message", lambda s: "/send_message/bob", "alice", {"message": text_for(1000)},
             (Message, Notification)),
    FormCase("report post", lambda s: f"/post/{s.report_post_id}/report", "alice", {"reason": REASONS},
             (Report,)),
    FormCase("report user", lambda s: "/user/bob/report", "alice", {"reason": REASONS}, (Report,)),
    FormCase("mark read", lambda s: "/messages/bob/read", "alice", {"up_to": NUMBERS}),
    FormCase("notifications read", lambda s: "/notifications/read", "alice", {"up_to": NUMBERS}),
    FormCase("language", lambda s: "/language", "alice",
             {"language": LOCALES,
              "next": st.one_of(ANY_TEXT, st.sampled_from(["/explore", "//evil.example", "https://evil.example"]))}),
    FormCase("follow", lambda s: "/follow/bob", "alice", {"submit": ANY_TEXT}),
    FormCase("hide post", lambda s: f"/admin/posts/{s.bob_post_id}/hide", "admin", {"reason": REASONS}),
    FormCase("suspend", lambda s: "/admin/users/bob/suspend", "admin", {"reason": REASONS}),
    FormCase("change role", lambda s: "/admin/users/mod/role", "admin",
             {"role": st.one_of(st.sampled_from(["user", "moderator", "admin", "root"]), ANY_TEXT),
              "reason": REASONS}),
]


def test_forms_never_fail_and_refusals_write_nothing(site: Site, fuzz_cases):
    """Every form, with fields missing, doubled, too long, of any characters, sent any way."""
    with site.app.app_context():
        site.ids["reset_token"] = reset_token(db.session.get(User, site.alice_id))  # type: ignore[assignment]

    def submissions(form: FormCase):
        values = st.fixed_dictionaries(
            {name: field_value(strategy) for name, strategy in form.fields.items()}
        )
        return st.tuples(st.just(form), values)

    @fuzz_settings(1800)
    @given(case=st.one_of(*(submissions(form) for form in FORMS)), encoding=ENCODINGS)
    def run(case: tuple[FormCase, dict[str, Any]], encoding: str) -> None:
        form, data = case
        client = site.client(form.who)
        path = form.path(site)

        def state() -> tuple:
            counts = tuple(site.count(table) for table in form.tables)
            return counts, form.state(site) if form.state else None

        before = state()
        response = submit(client, path, data, encoding)
        fuzz_cases()
        assert_no_server_error(response, f"{form.name}: POST {path} {data!r}")
        if response.status_code != 302:  # turned down: the form again, or an error page
            assert state() == before, f"{form.name}: refused ({response.status_code}) but wrote {data!r}"

    run()


# -- query strings, cookies and path segments ----------------------------------------------------
PAGES = [
    "/", "/index", "/explore", "/search", "/user/bob", "/user/bob/followers", "/user/bob/following",
    "/messages", "/messages/bob", "/notifications", "/notifications/count.json", "/send_message/bob",
    "/edit_profile", "/auth/login", "/auth/register", "/auth/reset_password_request",
    "/admin/", "/admin/reports", "/admin/users", "/admin/audit", "/admin/outbox",
    "/api/posts", "/api/users", "/api/users/2/followers", "/api/search", "/api/search/people",
]
VISITORS = ["anonymous", "alice", "admin"]
ARG_NAMES = ["page", "per_page", "before", "after", "q", "sort", "type", "status", "role", "suspended",
             "next", "unread", "user_id", "lang", "tz", "format"]
WORDS = st.sampled_from(["bob", "hello", "\"hello world\"", "#fuzz", "@bob", "-hello", "hel*", "a OR b",
                         "new", "people", "open", "resolved", "failed", "admin", "1", "true", "(", "\"", "*"])


def cursors(site: Site) -> st.SearchStrategy[str]:
    """Cursors signed with the site's key, around odd rows: far past or future, ids no column can hold."""
    moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                           timezones=st.just(UTC))
    ids = st.one_of(st.integers(-(2**63), 2**63), st.integers(0, 100), st.integers(2**31 - 2, 2**31 + 2))
    return st.builds(site.cursor, moments, ids, st.integers(1, 100_000))


def arg_values(site: Site) -> st.SearchStrategy[str]:
    return st.one_of(NUMBERS, WORDS, text_for(None), cursors(site),
                     cursors(site).map(lambda c: c[:-1] + ("A" if c[-1] != "A" else "B")))


def test_query_strings_cookies_and_headers_never_fail(site: Site, fuzz_cases):
    """Every list's paging (page, per_page, cursors), search, filters, and the language and zone cookies."""
    # Every page as every visitor: signed out, a plain user (on admin pages too), an administrator.
    visits = st.tuples(st.sampled_from(VISITORS), st.sampled_from(PAGES))

    @fuzz_settings(1800)
    @given(
        visit=visits,
        args=st.lists(
            st.tuples(st.one_of(st.sampled_from(ARG_NAMES), ANY_TEXT), arg_values(site)), max_size=5
        ),
        locale=st.one_of(st.none(), LOCALES),
        zone=st.one_of(st.none(), ZONES, ANY_TEXT.map(quote)),
        language=st.one_of(
            st.none(), st.sampled_from(["fr", "ar;q=0.9,en;q=0.1", "*", "zz-ZZ", ";q=x"]), ANY_TEXT
        ),
        accept=st.sampled_from([None, "application/json", "text/html", "*/*", "image/png;q=x"]),
    )
    def run(visit: tuple[str, str], args: list, locale, zone, language, accept) -> None:
        who, path = visit
        client = site.client(who)
        if locale is not None:
            client.set_cookie("locale", locale)
        if zone is not None:
            client.set_cookie("tz", zone)
        headers = {name: value for name, value in (("Accept-Language", language), ("Accept", accept))
                   if value is not None and value.isascii() and "\n" not in value and "\r" not in value}
        response = client.get(path, query_string=MultiDict(args), headers=headers)
        fuzz_cases()
        assert_no_server_error(response, f"GET {path}?{args!r}")

    run()


KEYSET_PAGES = ["/", "/explore", "/user/bob", "/user/bob/followers", "/user/bob/following", "/api/posts",
                "/api/users/2/followers", "/api/users/2/following", "/api/users/2/posts"]


def test_signed_cursors_of_any_row_never_fail(site: Site, fuzz_cases):
    """Cursors are signed, so only the site makes them; still, odd rows in them must not break a list."""

    @fuzz_settings(300)
    @given(path=st.sampled_from(KEYSET_PAGES), direction=st.sampled_from(["before", "after"]),
           cursor=cursors(site), who=st.sampled_from(VISITORS), per_page=st.sampled_from([None, "1", "100"]))
    def run(path: str, direction: str, cursor: str, who: str, per_page: str | None) -> None:
        args = {direction: cursor, **({"per_page": per_page} if per_page else {})}
        response = site.client(who).get(path, query_string=args)
        fuzz_cases()
        assert_no_server_error(response, f"GET {path}?{args}")

    run()


PATH_TEMPLATES = [
    "/post/{n}", "/post/{n}/report", "/admin/posts/{n}", "/api/posts/{n}", "/api/users/{n}",
    "/api/users/{n}/posts", "/api/users/{n}/followers", "/api/users/{n}/following", "/user/{name}",
    "/user/{name}/followers", "/messages/{name}", "/send_message/{name}", "/avatar/{name}.svg",
    "/admin/users/{name}", "/auth/reset_password/{name}", "/auth/confirm/{name}", "/auth/unsubscribe/{name}",
    "/tasks/{name}", "/tasks/{name}.json", "/export/{name}/download", "/admin/tasks/{name}",
]


def test_path_segments_never_fail(site: Site, fuzz_cases):
    """Ids past what a column holds (PostgreSQL integers are 32-bit) and names of any shape."""
    numbers = st.one_of(st.integers(0, 2**70), st.integers(2**31 - 2, 2**31 + 2), st.integers(0, 50))
    names = st.one_of(
        ANY_TEXT.filter(lambda s: s.strip("/.")), st.text(string.ascii_letters + "_", min_size=1),
        st.sampled_from(["bob", "BOB", "alice", "a" * 33, "x" * 300]),
    )

    @fuzz_settings(600)
    @given(template=st.sampled_from(PATH_TEMPLATES), n=numbers, name=names,
           who=st.sampled_from(VISITORS))
    def run(template: str, n: int, name: str, who: str) -> None:
        client = site.client(who)
        path = template.format(n=n, name=quote(name, safe=""))
        response = client.get(path)
        fuzz_cases()
        assert_no_server_error(response, f"GET {path}")

    run()
