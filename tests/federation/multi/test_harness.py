"""The harness itself: three real instances start, each is a site of its own (its SITE_URL, database,
accounts), a stopped one refuses connections and comes back with its data, and each writes its log."""

from __future__ import annotations

import pytest
import requests

from tests.federation.multi.harness import Person, eventually

pytestmark = [pytest.mark.federation, pytest.mark.slow]


def test_each_instance_answers_as_its_own_site(fediverse):
    for site in fediverse:
        assert site.get("/healthz").json() == {"status": "ok"}
        links = site.get("/.well-known/nodeinfo").json()["links"]
        assert links and all(link["href"].startswith(site.url + "/") for link in links), links
        nodeinfo = requests.get(links[-1]["href"], timeout=30).json()
        assert nodeinfo["software"]["name"] == "microblog"
    assert len({site.port for site in fediverse}) == 3
    assert len({site.database for site in fediverse}) == 3
    assert len({site.env["SECRET_KEY"] for site in fediverse}) == 3


def test_accounts_live_on_one_instance_only(fediverse):
    alice = Person.sign_up(fediverse.a, "alice")
    assert alice.me()["username"] == alice.username
    assert fediverse.a.get(f"/user/{alice.username}").status_code == 200
    assert fediverse.b.get(f"/user/{alice.username}").status_code == 404
    assert fediverse.a.sql("SELECT count(*) FROM user WHERE username = ?", alice.username) == [(1,)]
    assert fediverse.b.sql("SELECT count(*) FROM user WHERE username = ?", alice.username) == [(0,)]
    # Her token is good on her own site only.
    assert alice.api("GET", "/api/v1/accounts/verify_credentials").status_code == 200
    elsewhere = requests.get(fediverse.b.url + "/api/v1/accounts/verify_credentials", timeout=30,
                             headers={"Authorization": f"Bearer {alice.token}"})
    assert elsewhere.status_code == 401


def test_a_stopped_instance_comes_back_on_its_port_with_its_data(fediverse):
    site = fediverse.c
    carol = Person.sign_up(site, "carol")
    site.stop()
    assert not site.running
    with pytest.raises(requests.ConnectionError):
        site.get("/healthz")
    site.start()
    assert site.url.endswith(str(site.port))
    assert carol.me()["username"] == carol.username  # same database: the account and its token
    home = carol.page("/")
    assert home.status_code == 200 and carol.username in home.text  # and her browser's session


def test_the_log_records_the_requests(fediverse):
    site = fediverse.b
    before = site.log_size()
    site.get("/healthz?from-the-log-test")
    # gunicorn's access log line is written after the answer went out.
    eventually(lambda: "/healthz?from-the-log-test" in site.log_since(before), "the access log line",
               timeout=5)


def test_the_command_line_runs_on_an_instance_database(fediverse):
    done = fediverse.a.flask("db", "current")
    assert done.returncode == 0, done.stderr
    assert "(head)" in done.stdout
