"""Languages and time zones: catalogs, the choice of language, localized pages, emails and times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel import Locale
from babel.messages.pofile import read_po

from microblog.extensions import db
from microblog.models import Post, User
from microblog.services import counters
from tests.factories import make_follow, make_post, make_user

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ["es", "fr", "de", "pt_BR", "ja", "zh_CN", "ar"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def catalog_dir(lang: str) -> Path:
    """Catalogs live under Babel's full identifier (zh_CN is zh_Hans_CN), as Flask-Babel looks them up."""
    return TRANSLATIONS / str(Locale.parse(lang))


def test_every_catalog_directory_is_found_by_babel():
    for lang in LANGUAGES:
        assert (catalog_dir(lang) / "LC_MESSAGES" / "messages.po").is_file(), lang


def catalog(lang: str):
    with open(catalog_dir(lang) / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def translated(lang: str, msgid: str) -> str:
    message = catalog(lang)[msgid]
    assert message is not None and message.string, f"{msgid!r} has no {lang} translation"
    return message.string


# -- catalogs ---------------------------------------------------------------------------------
def test_every_language_in_config_has_a_catalog(app):
    assert set(app.config["LANGUAGES"]) == {"en", *LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_placeholder_safe(lang):
    template = {m.id for m in read_po(open(TRANSLATIONS / "messages.pot", "rb")) if m.id}
    cat = catalog(lang)
    ids = {m.id for m in cat if m.id}
    assert template <= ids, f"{lang} lacks {sorted(map(str, template - ids))[:5]}"
    problems = []
    for message in cat:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if isinstance(message.id, tuple):
            singular, plural = message.id
            forms = message.string
            if len(forms) != cat.num_plurals or not all(forms):
                problems.append(f"plural forms missing: {singular!r}")
                continue
            wanted = set(PLACEHOLDER.findall(plural))
            for form in forms:
                names = set(PLACEHOLDER.findall(form))
                # One-form plurals ("1 post" in zero/one forms) may drop the count, nothing else.
                if not names <= wanted or not (wanted - {"num"}) <= names:
                    problems.append(f"placeholders {names} != {wanted}: {singular!r}")
        else:
            if not message.string:
                problems.append(f"untranslated: {message.id!r}")
            elif set(PLACEHOLDER.findall(message.string)) != set(PLACEHOLDER.findall(message.id)):
                problems.append(f"placeholders differ: {message.id!r} -> {message.string!r}")
    assert problems == []


# -- choosing the language --------------------------------------------------------------------
KEY_STRINGS = ["Sign in", "Register", "Explore", "Username", "Password", "Remember me"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_login_page_is_translated(client, lang):
    response = client.get("/auth/login", headers={"Accept-Language": lang.replace("_", "-")})
    html = response.get_data(as_text=True)
    assert f'lang="{lang.replace("_", "-")}"' in html
    for text in KEY_STRINGS:
        assert translated(lang, text) in html
        assert f">{text}<" not in html, f"{text!r} left in English"


def test_accept_language_then_english(client):
    french = client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert 'lang="fr"' in french.get_data(as_text=True)
    assert 'lang="pt-BR"' in client.get("/", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_switcher_cookie_beats_accept_language_and_setting_beats_cookie(client, app, auth):
    response = client.post("/language", data={"language": "de", "next": "/explore"})
    assert response.status_code == 302 and response.headers["Location"] == "/explore"
    assert 'lang="de"' in client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    with app.app_context():
        make_user("alice", locale="ja")
    auth.login()
    assert 'lang="ja"' in client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    client.post("/language", data={"language": "es"})  # a signed-in switch updates the setting
    with app.app_context():
        assert db.session.scalar(sa.select(User.locale)) == "es"


@pytest.mark.parametrize(
    "data", [{"language": "xx"}, {"language": ""}, {"language": "de", "next": "//evil.example"}]
)
def test_switcher_ignores_bad_input(client, data):
    response = client.post("/language", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == ("/index" if data.get("next") else "/index")
    if data["language"] != "de":
        assert client.get_cookie("locale") is None


def test_profile_settings_for_language_and_zone(client, app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    page = client.get("/edit_profile").get_data(as_text=True)
    assert 'value="Europe/Paris"' in page and 'value="pt_BR"' in page
    response = client.post("/edit_profile", data={"username": "alice", "about_me": "",
                                                   "locale": "fr", "timezone": "Europe/Paris"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.locale, user.timezone) == ("fr", "Europe/Paris")
    bad = client.post("/edit_profile", data={"username": "alice", "locale": "xx", "timezone": "Mars/Base"})
    assert bad.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(User.locale)) == "fr"


# -- right to left ------------------------------------------------------------------------------
def test_arabic_pages_are_right_to_left(client):
    html = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html  # then the theme (data-bs-theme)
    rtl = re.search(r'href="(/static/vendor/bootstrap/bootstrap\.rtl\.min\.[0-9a-f]{8}\.css)"', html)
    assert rtl
    assert client.get(rtl.group(1)).status_code == 200
    ltr = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'dir="ltr"' in ltr and "bootstrap.rtl.min." not in ltr


# -- times and numbers ----------------------------------------------------------------------------
def test_times_show_in_the_users_zone_across_a_dst_change(client, app, auth):
    with app.app_context():
        alice = make_user("alice", timezone="America/New_York")
        # New York moved from EST (UTC-5) to EDT (UTC-4) at 07:00 UTC on 2026-03-08.
        before = make_post(alice, "before", datetime(2026, 3, 8, 6, 30, tzinfo=UTC)).id
        after = make_post(alice, "after", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)).id
    auth.login()
    html = client.get("/user/alice").get_data(as_text=True)

    def title(post_id: int) -> str:
        block = html[html.index(f'id="post-{post_id}"'):]
        return re.search(r'title="([^"]+)"', block).group(1)

    assert "1:30:00" in title(before) and "Eastern Standard Time" in title(before)
    assert "3:30:00" in title(after) and "Eastern Daylight Time" in title(after)


def test_visitors_get_the_zone_their_browser_reported(client, app):
    with app.app_context():
        make_post(make_user("bob"), "hi", datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    client.set_cookie("tz", "Asia/Tokyo")
    assert "9:00:00" in client.get("/explore").get_data(as_text=True)  # 21:00 JST
    client.set_cookie("tz", "Not/AZone")
    assert "12:00:00" in client.get("/explore").get_data(as_text=True)


def test_counts_are_localized(client, app):
    with app.app_context():
        alice = make_user("alice")
        db.session.add_all([Post(body=f"p{i}", author=alice) for i in range(1234)])
        counters.recount([alice.id])  # rows added behind the services' back: set the profile's count
        db.session.commit()
    german = client.get("/user/alice", headers={"Accept-Language": "de"})
    assert "1.234 Beiträge" in german.get_data(as_text=True)
    assert "1,234 posts" in client.get("/user/alice").get_data(as_text=True)


def test_relative_times_are_localized(client, app):
    with app.app_context():
        make_post(make_user("bob"), "hi")
    html = client.get("/explore", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "hace" in html


# -- posts and emails -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "language"),
    [("Bonjour à tous, je suis très content de vous retrouver ici aujourd'hui", "fr"),
     ("Heute ist ein wunderschöner Tag und ich gehe im Park spazieren", "de"),
     ("👍", None)],
)
def test_posts_record_their_language(client, app, auth, body, language):
    with app.app_context():
        make_user("alice")
    auth.login()
    client.post("/", data={"post": body})
    with app.app_context():
        assert db.session.scalar(sa.select(Post.language)) == language
    html = client.get("/explore").get_data(as_text=True)
    if language:
        assert f'lang="{language}" dir="auto"' in html


def test_emails_use_the_recipients_language(mail_app, smtp_server):
    client = mail_app.test_client()
    with mail_app.app_context():
        alice = make_user("alice", locale="en")
        bob = make_user("bob", locale="fr")
        make_follow(bob, alice)
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"},
                headers={"Accept-Language": "en"})
    client.post("/follow/bob", headers={"Accept-Language": "en"})
    [message] = smtp_server.inbox
    expected = translated("fr", "%(username)s is now following you").replace("%(username)s", "alice")
    assert message["Subject"] == expected
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert translated("fr", "Stop these emails:") in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="fr" dir="ltr">' in html
