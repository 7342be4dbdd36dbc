"""Bad input on every form and URL: refused with a message (never a 500), and nothing is stored."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from markupsafe import escape

from microblog.extensions import db
from microblog.models import Post, User, followers
from tests.factories import DEFAULT_PASSWORD, make_follow, make_post, make_user
from tests.samples import INVISIBLE_POSTS, NOTHING_VISIBLE, VISIBLE_POSTS

SCRIPT = "<script>alert(1)</script>"
# About 600 kB once form-encoded: under MAX_CONTENT_LENGTH (1 MB), so it reaches the form validators.
LONG_UNICODE = "é" * 100_000
LONG_EMOJI = "😀" * 20_000
RTL_OVERRIDE = "\u202e"
REQUIRED = "This field is required."
LETTERS = "letters, digits and underscores"


@dataclass(frozen=True)
class AsJson:
    """A request body sent as JSON instead of form fields (the web forms must not read it)."""

    payload: Any


@dataclass(frozen=True)
class Upload:
    """A file upload in place of a text field (werkzeug then sends multipart/form-data)."""

    content: bytes = b"hello"


def send(client, path: str, valid: dict, case: Any):
    """POST ``valid`` with ``case`` merged in, or ``case`` alone when it is a JSON body."""
    if isinstance(case, AsJson):
        return client.post(path, json=case.payload)
    data = {**valid, **case}
    for name, value in data.items():
        if isinstance(value, Upload):  # a fresh stream each time: the client closes it after sending
            data[name] = (io.BytesIO(value.content), "upload.txt")
    return client.post(path, data=data)


def row_count(app, table) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(table))


def assert_form_error(response, message: str) -> str:
    """The form came back (200, not a 500) with ``message`` on a field, and nothing was echoed raw."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert SCRIPT not in html
    return html


def signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice", about_me="original").id


# -- registration ------------------------------------------------------------------------------

VALID_REGISTRATION = {
    "username": "carol", "email": "carol@example.com",
    "password": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD,
}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        # empty
        pytest.param({"username": ""}, REQUIRED, id="empty-username"),
        pytest.param({"email": ""}, REQUIRED, id="empty-email"),
        pytest.param({"password": "", "password2": ""}, REQUIRED, id="empty-password"),
        pytest.param({"password2": ""}, REQUIRED, id="empty-password2"),
        pytest.param(dict.fromkeys(VALID_REGISTRATION, ""), REQUIRED, id="all-empty"),
        # overlong
        pytest.param({"username": "a" * 33}, "between 3 and 32", id="long-username"),
        pytest.param({"username": LONG_UNICODE}, "between 3 and 32", id="huge-unicode-username"),
        pytest.param({"username": LONG_EMOJI}, "between 3 and 32", id="huge-emoji-username"),
        pytest.param({"email": "c" * 250 + "@example.com"}, "254", id="long-email"),
        pytest.param({"email": LONG_UNICODE + "@example.com"}, "254", id="huge-unicode-email"),
        pytest.param({"password": "x" * 129, "password2": "x" * 129}, "8 to 128", id="long-password"),
        pytest.param({"password": LONG_UNICODE, "password2": "x"}, "8 to 128", id="huge-unicode-password"),
        # wrong type
        pytest.param({"username": ["", "carol"]}, REQUIRED, id="repeated-username-first-empty"),
        pytest.param({"username": ["bad name", "carol"]}, LETTERS,
                     id="repeated-username-first-bad"),
        pytest.param({"password2": ["different-pw", DEFAULT_PASSWORD]}, "do not match",
                     id="repeated-password2"),
        pytest.param({"username": Upload(b"carol")}, REQUIRED, id="file-as-username"),
        pytest.param(AsJson({**VALID_REGISTRATION, "username": 5}), REQUIRED, id="json-with-number"),
        pytest.param(AsJson(VALID_REGISTRATION), REQUIRED, id="json-body"),
        pytest.param(AsJson(["carol", "carol@example.com"]), REQUIRED, id="json-list"),
        pytest.param(AsJson("carol"), REQUIRED, id="json-string"),
        # hostile
        pytest.param({"username": SCRIPT}, LETTERS, id="script-username"),
        pytest.param({"username": "car\x00ol"}, LETTERS, id="nul-username"),
        pytest.param({"username": RTL_OVERRIDE + "carol"}, LETTERS, id="rtl-username"),
        pytest.param({"username": "carol\u200b"}, LETTERS, id="zero-width-username"),
        pytest.param({"username": "😀😀😀"}, LETTERS, id="emoji-username"),
        pytest.param({"email": SCRIPT + "@example.com"}, "Invalid email address.", id="script-email"),
        pytest.param({"email": "carol\x00@example.com"}, "Invalid email address.", id="nul-email"),
        pytest.param({"email": "carol" + RTL_OVERRIDE + "@example.com"}, "Invalid email address.",
                     id="rtl-email"),
        pytest.param({"email": "carol@example.com\r\nBcc: all@example.net"}, "Invalid email address.",
                     id="header-injection-email"),
    ],
)
def test_register_refuses_bad_input_and_stores_nothing(client, app, case, message):
    html = assert_form_error(send(client, "/auth/register", VALID_REGISTRATION, case), message)
    assert 'aria-invalid="true"' in html
    assert row_count(app, User) == 0


@pytest.mark.parametrize("path", ["/auth/register", "/auth/reset_password_request"])
def test_an_overlong_email_is_refused_on_length_alone(client, app, path):
    # The address check costs seconds of CPU on a near-1 MB address; an overlong one must never reach it.
    response = client.post(path, data={**VALID_REGISTRATION, "email": "a" * 900_000 + "@example.com"})
    html = assert_form_error(response, "longer than 254")
    assert "Invalid email address." not in html
    assert row_count(app, User) == 0


def test_register_uses_only_the_first_of_repeated_fields(client, app):
    response = client.post("/auth/register", data={**VALID_REGISTRATION, "username": ["carol", SCRIPT]})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(User.username)).all() == ["carol"]


# -- login -------------------------------------------------------------------------------------

VALID_LOGIN = {"username": "alice", "password": DEFAULT_PASSWORD}
INVALID_LOGIN = "Invalid username or password."


@pytest.mark.parametrize(
    ("case", "message"),
    [
        # empty
        pytest.param({"username": "", "password": ""}, REQUIRED, id="all-empty"),
        pytest.param({"username": ""}, REQUIRED, id="empty-username"),
        pytest.param({"password": ""}, REQUIRED, id="empty-password"),
        # overlong (refused before any password hashing)
        pytest.param({"username": "a" * 33}, "longer than 32", id="long-username"),
        pytest.param({"username": LONG_UNICODE}, "longer than 32", id="huge-unicode-username"),
        pytest.param({"password": "x" * 129}, "longer than 128", id="long-password"),
        pytest.param({"password": LONG_UNICODE}, "longer than 128", id="huge-unicode-password"),
        pytest.param({"password": LONG_EMOJI}, "longer than 128", id="huge-emoji-password"),
        # wrong type
        pytest.param({"username": ["nobody", "alice"]}, INVALID_LOGIN, id="repeated-username"),
        pytest.param({"password": ["wrong-password", DEFAULT_PASSWORD]}, INVALID_LOGIN,
                     id="repeated-password"),
        pytest.param({"password": "wrong-password", "remember_me": "notabool"}, INVALID_LOGIN,
                     id="remember-me-notabool"),
        pytest.param({"username": Upload(b"alice")}, REQUIRED, id="file-as-username"),
        pytest.param(AsJson(VALID_LOGIN), REQUIRED, id="json-body"),
        pytest.param(AsJson({"username": 1, "password": 2}), REQUIRED, id="json-numbers"),
        pytest.param(AsJson([1, 2]), REQUIRED, id="json-list"),
        pytest.param(AsJson("alice"), REQUIRED, id="json-string"),
        # hostile
        pytest.param({"username": SCRIPT}, INVALID_LOGIN, id="script-username"),
        pytest.param({"username": "alice\x00"}, INVALID_LOGIN, id="nul-username"),
        pytest.param({"username": RTL_OVERRIDE + "alice"}, INVALID_LOGIN, id="rtl-username"),
        pytest.param({"username": "alice' OR '1'='1"}, INVALID_LOGIN, id="sql-username"),
        pytest.param({"username": "al%"}, INVALID_LOGIN, id="wildcard-username"),
        # A leading NUL: PBKDF2/scrypt pad the key with zeros, so a *trailing* NUL is the same password.
        pytest.param({"password": "\x00" + DEFAULT_PASSWORD}, INVALID_LOGIN, id="nul-password"),
        pytest.param({"password": "' OR '1'='1"}, INVALID_LOGIN, id="sql-password"),
    ],
)
def test_login_refuses_bad_input_and_signs_nobody_in(client, app, alice, case, message):
    assert_form_error(send(client, "/auth/login", VALID_LOGIN, case), message)
    assert not signed_in(client)
    assert client.get_cookie("remember_token") is None


def test_remember_me_with_an_odd_value_does_not_break_login(client, alice):
    # A browser only ever sends "y"; anything else is not an error either (any value means "checked").
    response = client.post("/auth/login", data={**VALID_LOGIN, "remember_me": "notabool"})
    assert response.status_code == 302
    assert signed_in(client)


# -- posting -----------------------------------------------------------------------------------

CONTROL = "cannot contain control characters"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        # empty
        pytest.param({"post": ""}, REQUIRED, id="empty"),
        pytest.param({"post": "  \n\t  "}, REQUIRED, id="blank"),
        pytest.param({}, REQUIRED, id="missing"),
        # overlong
        pytest.param({"post": "x" * 281}, "at most 280 characters", id="281-chars"),
        pytest.param({"post": LONG_UNICODE}, "at most 280 characters", id="huge-unicode"),
        pytest.param({"post": LONG_EMOJI}, "at most 280 characters", id="huge-emoji"),
        # wrong type
        pytest.param({"post": ["", "hello"]}, REQUIRED, id="repeated-first-empty"),
        pytest.param({"post": ["x" * 281, "hello"]}, "at most 280 characters", id="repeated-first-long"),
        pytest.param({"post": Upload()}, REQUIRED, id="file"),
        pytest.param(AsJson({"post": "hello"}), REQUIRED, id="json-body"),
        pytest.param(AsJson({"post": 5}), REQUIRED, id="json-number"),
        pytest.param(AsJson({"post": {"a": 1}}), REQUIRED, id="json-object"),
        pytest.param(AsJson([1, 2]), REQUIRED, id="json-list"),
        # hostile
        pytest.param({"post": "hello\x00world"}, CONTROL, id="nul"),
        pytest.param({"post": "ding\x07"}, CONTROL, id="bell"),
        pytest.param({"post": "rub\x7fout"}, CONTROL, id="delete"),
        pytest.param({"post": "\x9b31mred"}, CONTROL, id="c1-csi"),
        pytest.param({"post": "my holiday " + RTL_OVERRIDE + "gpj.exe"}, CONTROL, id="rtl-override"),
        pytest.param({"post": "isolated \u2067text"}, CONTROL, id="rtl-isolate"),
    ],
)
def test_post_refuses_bad_input_and_stores_nothing(client, app, auth, alice, case, message):
    auth.login()
    html = assert_form_error(send(client, "/index", {}, case), message)
    assert 'aria-invalid="true"' in html
    assert row_count(app, Post) == 0


def test_post_allows_text_in_right_to_left_scripts(client, app, auth, alice):
    # Arabic and Hebrew text, and the left-to-right/right-to-left marks, are ordinary writing.
    body = "שלום مرحبا \u200fhello\u200e"
    auth.login()
    assert client.post("/index", data={"post": body}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Post.body)) == body


@pytest.mark.parametrize("body", INVISIBLE_POSTS.values(), ids=INVISIBLE_POSTS.keys())
def test_a_post_that_shows_nothing_is_refused(client, app, auth, alice, body):
    auth.login()
    html = assert_form_error(client.post("/index", data={"post": body}), NOTHING_VISIBLE)
    assert 'aria-invalid="true"' in html
    assert row_count(app, Post) == 0


@pytest.mark.parametrize("body", VISIBLE_POSTS.values(), ids=VISIBLE_POSTS.keys())
def test_a_post_with_zero_width_characters_and_visible_text_is_accepted(client, app, auth, alice, body):
    auth.login()
    assert client.post("/index", data={"post": body}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Post.body)) == body


# -- edit profile ------------------------------------------------------------------------------

VALID_PROFILE = {"username": "alice", "about_me": "changed"}
CONTROL_PROFILE = "Please remove control characters."


@pytest.mark.parametrize(
    ("case", "message"),
    [
        # empty
        pytest.param({"username": ""}, REQUIRED, id="empty-username"),
        pytest.param({"username": "   "}, REQUIRED, id="blank-username"),
        # overlong
        pytest.param({"username": "ab"}, "between 3 and 32", id="short-username"),
        pytest.param({"username": "a" * 33}, "between 3 and 32", id="long-username"),
        pytest.param({"username": LONG_UNICODE}, "between 3 and 32", id="huge-unicode-username"),
        pytest.param({"about_me": "x" * 501}, "longer than 500", id="long-about-me"),
        pytest.param({"about_me": LONG_UNICODE}, "longer than 500", id="huge-unicode-about-me"),
        pytest.param({"about_me": LONG_EMOJI}, "longer than 500", id="huge-emoji-about-me"),
        # wrong type
        pytest.param({"username": ["", "alice2"]}, REQUIRED, id="repeated-username"),
        pytest.param({"about_me": ["x" * 501, "short"]}, "longer than 500", id="repeated-about-me"),
        pytest.param({"username": Upload(b"alice2")}, REQUIRED, id="file-as-username"),
        pytest.param(AsJson({"username": "alice2", "about_me": "json"}), REQUIRED, id="json-body"),
        pytest.param(AsJson({"username": 5, "about_me": 3}), REQUIRED, id="json-numbers"),
        pytest.param(AsJson([1, 2]), REQUIRED, id="json-list"),
        # hostile
        pytest.param({"username": SCRIPT}, LETTERS, id="script-username"),
        pytest.param({"username": "ali\x00ce"}, LETTERS, id="nul-username"),
        pytest.param({"username": RTL_OVERRIDE + "alice"}, LETTERS, id="rtl-username"),
        pytest.param({"username": "bob"}, "That username is taken.", id="taken-username"),
        pytest.param({"about_me": "hi\x00there"}, CONTROL_PROFILE, id="nul-about-me"),
        pytest.param({"about_me": "escape\x1b[2J"}, CONTROL_PROFILE, id="escape-about-me"),
        pytest.param({"about_me": RTL_OVERRIDE + "reversed"}, CONTROL_PROFILE, id="rtl-about-me"),
    ],
)
def test_edit_profile_refuses_bad_input_and_changes_nothing(client, app, auth, alice, case, message):
    with app.app_context():
        make_user("bob")
    auth.login()
    html = assert_form_error(send(client, "/edit_profile", VALID_PROFILE, case), message)
    assert 'aria-invalid="true"' in html
    with app.app_context():
        user = db.session.get(User, alice)
        assert (user.username, user.about_me) == ("alice", "original")
        assert row_count(app, User) == 2


# -- output escaping ---------------------------------------------------------------------------

class _Tags(HTMLParser):
    """Collects the start tags, with their attributes, of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def post_body_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """The tags inside the rendered post bodies on a page."""
    bodies = re.findall(r'<p class="[^"]*\bpost-body"[^>]*>(.*?)</p>', html, re.DOTALL)
    assert bodies, "no post on the page"
    parser = _Tags()
    for body in bodies:
        parser.feed(body)
    return parser.tags


def publish(client, app, body: str) -> None:
    assert client.post("/index", data={"post": body}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Post.body)) == body  # stored exactly as written


@pytest.mark.parametrize("page", ["/index", "/explore", "/user/alice"])
def test_markup_in_a_post_is_stored_as_written_and_shown_escaped(client, app, auth, alice, page):
    auth.login()
    publish(client, app, f"{SCRIPT} read https://example.com/a?b=1&c=2.")
    html = client.get(page).get_data(as_text=True)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tags = post_body_tags(html)
    assert [tag for tag, _ in tags] == ["a"]
    link = tags[0][1]
    assert link["href"] == "https://example.com/a?b=1&c=2"  # the full stop stays outside the link
    assert {"nofollow", "noopener"} <= set((link["rel"] or "").split())


@pytest.mark.parametrize(
    "body",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "javascript://example.com/%0Aalert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        '<a href="javascript:alert(1)">click me</a>',
        "<img src=x onerror=alert(1)>",
    ],
)
def test_dangerous_urls_and_tags_in_a_post_never_become_markup(client, app, auth, alice, body):
    auth.login()
    publish(client, app, body)
    html = client.get("/explore").get_data(as_text=True)
    assert post_body_tags(html) == []
    assert 'href="javascript:' not in html.lower()
    assert "<img src=x" not in html


@pytest.mark.parametrize(
    "body",
    [
        'https://example.com/"onmouseover="alert(1)',
        "https://example.com/'><img src=x onerror=alert(1)>",
        "https://example.com/&quot;onclick=alert(1)",
    ],
)
def test_a_url_cannot_break_out_of_its_link(client, app, auth, alice, body):
    auth.login()
    publish(client, app, body)
    tags = post_body_tags(client.get("/explore").get_data(as_text=True))
    assert [tag for tag, _ in tags] == ["a"]
    assert set(tags[0][1]) == {"href", "rel", "target"}


@pytest.mark.parametrize(
    ("body", "href", "after"),
    [
        # characters that cannot end a URL in running text end the link
        ('see https://example.com/page"and more', "https://example.com/page", "&#34;and more"),
        ('"https://example.com/quoted" he said', "https://example.com/quoted", "&#34; he said"),
        ("https://example.com/it's", "https://example.com/it", "&#39;s"),
        ("<https://example.com/angle>", "https://example.com/angle", "&gt;"),
        ("https://example.com/a<b>c", "https://example.com/a", "&lt;b&gt;c"),
        # trailing punctuation belongs to the sentence
        ("Read https://example.com/a.", "https://example.com/a", "."),
        ("https://example.com/a, then more", "https://example.com/a", ", then more"),
        ("https://example.com/a; then", "https://example.com/a", "; then"),
        ("Really? https://example.com/a!?", "https://example.com/a", "!?"),
        ("https://example.com/a:", "https://example.com/a", ":"),
        ("https://example.com/a...", "https://example.com/a", "..."),
        # a closing bracket stays when the URL opened it, else it closes the sentence's bracket
        ("(see https://example.com/a)", "https://example.com/a", ")"),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)", ")"),
        ("https://en.wikipedia.org/wiki/Foo_(bar).", "https://en.wikipedia.org/wiki/Foo_(bar)", "."),
        ("[https://example.com/a]", "https://example.com/a", "]"),
        ("https://example.com/q?a=(1)!", "https://example.com/q?a=(1)", "!"),
        # inside a URL, these are ordinary
        ("https://example.com/a.b/c?d=e&f=g#h", "https://example.com/a.b/c?d=e&f=g#h", ""),
        ("https://example.com/a,b;c:d!e", "https://example.com/a,b;c:d!e", ""),
    ],
    ids=["double-quote", "quoted-url", "apostrophe", "angle-brackets", "less-than", "full-stop", "comma",
         "semicolon", "exclamation-question", "colon", "ellipsis", "in-parentheses", "balanced-parentheses",
         "balanced-then-full-stop", "in-square-brackets", "balanced-query", "ordinary-url",
         "punctuation-inside"],
)
def test_a_link_ends_where_the_url_does(client, app, auth, alice, body, href, after):
    auth.login()
    publish(client, app, body)
    html = client.get("/explore").get_data(as_text=True)
    tags = post_body_tags(html)
    assert [tag for tag, _ in tags] == ["a"]
    assert tags[0][1]["href"] == href
    assert set(tags[0][1]) == {"href", "rel", "target"}
    shown = re.search(r'<p class="[^"]*\bpost-body"[^>]*>(.*?)</p>', html, re.DOTALL).group(1)
    assert f">{escape(href)}</a>{after}" in shown


def test_markup_in_about_me_is_shown_escaped(client, app, auth, alice):
    with app.app_context():
        make_follow(make_user("bob"), db.session.get(User, alice))
    auth.login()
    response = client.post("/edit_profile", data={"username": "alice", "about_me": SCRIPT})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, alice).about_me == SCRIPT
    for page in ("/user/alice", "/user/bob/following"):
        html = client.get(page).get_data(as_text=True)
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- pagination and unknown users --------------------------------------------------------------

PAGED = ["/", "/explore", "/user/xavier", "/user/xavier/followers", "/user/xavier/following"]


@pytest.mark.parametrize(
    "page",
    ["abc", "-1", "0", "99999999", "1.5", "", str(10**30), "1e3", "0x10", " 1", "+1", "١", "²",
     "1; DROP TABLE post", "%00"],
)
def test_bad_page_numbers_are_404_never_500(client, app, auth, alice, page):
    with app.app_context():
        make_user("xavier")
    auth.login()
    for path in PAGED:
        response = client.get(path, query_string={"page": page})
        assert response.status_code == 404, f"{path}?page={page!r} gave {response.status_code}"


def test_first_page_of_an_empty_list_is_an_empty_page_and_the_next_is_404(client, app, auth, alice):
    with app.app_context():
        make_user("xavier")
    auth.login()
    for path in PAGED:
        assert client.get(path, query_string={"page": "1"}).status_code == 200, path
        assert client.get(path, query_string={"page": "2"}).status_code == 404, path


@pytest.mark.parametrize(
    "username", ["nobody", "<script>", "a" * 1000, "é", "nobody%00", "nobody%0A", "..", "%2e%2e"]
)
def test_unknown_users_are_404(client, app, auth, alice, username):
    auth.login()
    for path in (f"/user/{username}", f"/user/{username}/followers", f"/user/{username}/following"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/follow/{username}").status_code == 404
    assert client.post(f"/unfollow/{username}").status_code == 404
    assert row_count(app, followers) == 0


# -- follow and delete rules -------------------------------------------------------------------

def test_following_yourself_is_refused_with_a_message(client, app, auth, alice):
    auth.login()
    response = client.post("/follow/alice", follow_redirects=True)
    assert response.status_code == 200
    assert "You cannot follow yourself." in response.get_data(as_text=True)
    assert row_count(app, followers) == 0


def test_following_twice_stores_one_row(client, app, auth, alice):
    with app.app_context():
        make_user("bob")
    auth.login()
    assert client.post("/follow/bob").status_code == 302
    assert client.post("/follow/BOB").status_code == 302
    assert row_count(app, followers) == 1


def test_unfollowing_someone_you_do_not_follow_is_harmless(client, app, auth, alice):
    with app.app_context():
        bob = make_user("bob")
        make_follow(make_user("carol"), bob)
    auth.login()
    response = client.post("/unfollow/bob", follow_redirects=True)
    assert response.status_code == 200
    assert row_count(app, followers) == 1  # carol still follows bob


def test_deleting_someone_elses_post_is_403_and_keeps_it(client, app, auth, alice):
    with app.app_context():
        post_id = make_post(make_user("bob"), "bob's post").id
    auth.login()
    assert client.post(f"/post/{post_id}/delete").status_code == 403
    with app.app_context():
        assert db.session.get(Post, post_id).body == "bob's post"


@pytest.mark.parametrize("post_id", ["999999", str(2**31), str(2**63), str(10**30)])
def test_deleting_a_post_that_does_not_exist_is_harmless(client, app, auth, alice, post_id):
    with app.app_context():
        make_post(db.session.get(User, alice), "mine")
    auth.login()
    assert client.post(f"/post/{post_id}/delete").status_code in (302, 404)
    assert row_count(app, Post) == 1


@pytest.mark.parametrize("post_id", ["abc", "-1", "1.5", "%00"])
def test_malformed_post_ids_are_404(client, app, auth, alice, post_id):
    auth.login()
    assert client.post(f"/post/{post_id}/delete").status_code == 404
