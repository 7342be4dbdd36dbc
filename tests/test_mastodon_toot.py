"""toot, the Mastodon command-line client, against a running server (tests/mastodon_live.py), run as a
person runs it: the ``toot`` program in a process of its own, with its own configuration folder.

``toot login`` asks for the instance, prints the authorize URL and asks for the code: the test reads
the URL from its output, does what the person does in their browser (consent_in_browser) and types
the code. Then alice and bob post, reply, read their timelines, follow, favourite, boost, search,
read their notifications and attach a picture with a description, each with their own login.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.mastodon_live import consent_in_browser, require_client
from tests.media_samples import png_bytes

# The program a person would run: the one installed beside this Python (requirements-dev.txt).
TOOT = shutil.which("toot", path=os.path.dirname(sys.executable)) or shutil.which("toot")
TIMEOUT = 60
# Dozens of toot processes, each a second or so of start-up: out of the fast lane (make test runs them).
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _toot_installed() -> None:
    require_client(TOOT is not None, "toot (requirements-dev.txt)")


@pytest.fixture
def live_settings() -> dict[str, Any]:
    # A few dozen calls in seconds: the API's per-minute write allowance is not what these tests test.
    return {"RATELIMIT_API_WRITES": "1000 per minute"}


class Toot:
    """One person's toot: its own configuration and cache folders, a browser that opens nothing."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("TOOT_")}
        self.env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
                        XDG_CACHE_HOME=str(home / "cache"), XDG_DATA_HOME=str(home / "data"),
                        BROWSER="true", PYTHONUNBUFFERED="1", COLUMNS="120", LINES="50", TERM="dumb",
                        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")

    def run(self, *args: str) -> str:
        """``toot ARGS``: its output; the command must succeed."""
        done = self.attempt(*args)
        assert done.returncode == 0, f"toot {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def attempt(self, *args: str) -> subprocess.CompletedProcess:
        """``toot ARGS``, succeeding or not."""
        return subprocess.run([TOOT, *args], env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=TIMEOUT)

    def json(self, *args: str) -> Any:
        """``toot ARGS --json``: the server's answer as toot printed it."""
        return json.loads(self.run(*args, "--json"))

    def login(self, base: str, username: str) -> str:
        """``toot login`` as a person does it: type the instance, decline the browser, read the URL,
        consent in the browser, type the code. The URL toot asked the person to open."""
        process = subprocess.Popen([TOOT, "login"], env=self.env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killer = threading.Timer(TIMEOUT, process.kill)  # a toot that hangs waiting for input fails the test
        killer.start()
        try:
            process.stdin.write(f"{base}\nn\n")  # "Enter instance URL", "Open link in default browser?"
            process.stdin.flush()
            url = ""
            for line in process.stdout:
                if line.startswith(f"{base}/oauth/authorize"):
                    url = line.strip()
                    break
            assert url, process.stderr.read()
            code = consent_in_browser(base, url, username)
            output, errors = process.communicate(f"{code}\n", timeout=TIMEOUT)
        finally:
            killer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 0, f"{output}\n{errors}"
        assert "Successfully logged in" in output
        return url


def instance_domain(base: str) -> str:
    return urlsplit(base).netloc


def sign_in(base: str, tmp_path: Path, username: str) -> Toot:
    toot = Toot(tmp_path / username)
    toot.login(base, username)
    return toot


def test_toot_logs_in_through_the_browser_and_reads_the_account_and_the_instance(live, tmp_path):
    alice = Toot(tmp_path / "alice")
    url = alice.login(live, "alice")
    # toot's own authorize URL: a trailing slash, its three scopes, the out-of-band redirect.
    assert url.startswith(f"{live}/oauth/authorize/?response_type=code&")
    assert "scope=read+write+follow" in url and "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob" in url

    # What toot kept: the app under the instance's domain, the user as alice@domain, active.
    config = json.loads((tmp_path / "alice" / "config" / "toot" / "config.json").read_text())
    domain = instance_domain(live)
    assert config["active_user"] == f"alice@{domain}"
    assert config["apps"][domain]["base_url"] == live
    assert config["users"][f"alice@{domain}"]["username"] == "alice"
    assert f"alice@{domain}" in alice.run("auth")

    shown = alice.run("whoami")
    assert "@alice" in shown and "I post things." in shown and "Statuses: 0" in shown
    me = alice.json("whoami")
    assert me["username"] == "alice" and me["acct"] == "alice" and me["url"] == f"{live}/user/alice"

    shown = alice.run("instance")
    assert domain in shown and "running Mastodon 4.3.0 (compatible; microblog" in shown
    about = alice.json("instance")
    assert about["uri"] == domain and about["version"].startswith("4.3.0")
    # Any instance by its URL, without logging in to it.
    assert Toot(tmp_path / "nobody").json("instance", live)["uri"] == domain


def test_toot_posts_replies_and_reads_the_timelines(live, tmp_path):
    alice, bob = sign_in(live, tmp_path, "alice"), sign_in(live, tmp_path, "bob")

    assert alice.run("post", "Hello from the command line #tootflow").startswith(f"Toot posted: {live}/")
    posted = alice.json("post", "A second toot, in JSON")
    assert posted["content"] and "A second toot, in JSON" in posted["content"]
    assert posted["account"]["username"] == "alice" and posted["visibility"] == "public"
    assert alice.json("status", posted["id"])["id"] == posted["id"]

    reply = bob.json("post", "--reply-to", posted["id"], "@alice Nice toot")
    assert reply["in_reply_to_id"] == posted["id"]
    assert reply["in_reply_to_account_id"] == posted["account"]["id"]
    assert [m["acct"] for m in reply["mentions"]] == ["alice"]
    thread = alice.json("thread", posted["id"])
    assert [s["id"] for s in thread["descendants"]] == [reply["id"]] and thread["ancestors"] == []
    assert [s["id"] for s in bob.json("thread", reply["id"])["ancestors"]] == [posted["id"]]

    # Home: alice's own toots, newest first (she follows nobody, so not bob's reply).
    home = alice.run("timeline", "--once")
    assert "A second toot, in JSON" in home and "Hello from the command line #tootflow" in home
    assert home.index("A second toot") < home.index("Hello from the command line")
    assert "Nice toot" not in home
    # Public: everyone's (replies to others stay out of it, as on Mastodon).
    bob.run("post", "Bob speaks up")
    public = alice.run("timeline", "--public", "--once")
    assert "Bob speaks up" in public and "Hello from the command line" in public
    # A hashtag's timeline.
    tagged = bob.run("timeline", "--tag", "tootflow", "--once")
    assert "Hello from the command line" in tagged and "A second toot" not in tagged

    alice.run("delete", posted["id"])
    assert "A second toot" not in alice.run("timeline", "--once")


def test_toot_follows_favourites_boosts_and_notifies(live, tmp_path):
    alice, bob = sign_in(live, tmp_path, "alice"), sign_in(live, tmp_path, "bob")
    posted = alice.json("post", "Boost me if you like it")

    # toot follow finds the account by a search (type=accounts, resolve=true), then follows its id.
    assert "You are now following alice" in bob.run("follow", "alice")
    assert "Boost me if you like it" in bob.run("timeline", "--once")  # now on bob's home

    favourited = bob.json("favourite", posted["id"])
    assert favourited["id"] == posted["id"] and favourited["favourited"] is True
    assert favourited["favourites_count"] == 1
    boost = bob.json("reblog", posted["id"])
    assert boost["reblog"]["id"] == posted["id"] and boost["reblog"]["reblogged"] is True
    assert boost["account"]["username"] == "bob"
    assert "Status bookmarked" in bob.run("bookmark", posted["id"])
    assert "Boost me if you like it" in bob.run("bookmarks", "--once")

    found = alice.json("search", "bob")
    assert "bob" in [account["acct"] for account in found["accounts"]]
    assert "@bob" in alice.run("search", "bob")
    assert alice.json("whois", "bob")["acct"] == "bob"
    statuses = alice.json("search", "Boost me", "--type", "statuses")["statuses"]
    assert posted["id"] in [status["id"] for status in statuses]

    notifications = alice.json("notifications")
    kinds = {(n["type"], n["account"]["acct"]) for n in notifications}
    assert {("follow", "bob"), ("favourite", "bob"), ("reblog", "bob")} <= kinds
    assert all(n["status"]["id"] == posted["id"] for n in notifications if n["type"] != "follow")
    shown = alice.run("notifications")
    assert "@bob now follows you" in shown and "@bob favourited your status" in shown
    assert "@bob boosted your status" in shown
    only = alice.json("notifications", "--type", "favourite")
    assert {n["type"] for n in only} == {"favourite"}
    assert "You have no notifications" in bob.run("notifications")


def test_toot_posts_a_picture_with_a_description(live, tmp_path):
    alice = sign_in(live, tmp_path, "alice")
    picture = tmp_path / "square.png"
    picture.write_bytes(png_bytes(32, 32))

    # toot uploads to /api/v2/media (the file part named square.png, no content type of its own),
    # waits on GET /api/v1/media/:id while the url is null, then posts with media_ids.
    posted = alice.json("post", "A square", "--media", str(picture), "--description", "A small grey square")
    [media] = posted["media_attachments"]
    assert media["type"] == "image" and media["description"] == "A small grey square"
    assert media["url"] and media["preview_url"]
    assert "A square" in posted["content"]

    # Media alone, without text (toot reads the text from its standard input, here empty): every post
    # here has words (the alt text is for the picture), and toot shows the server's reason.
    refused = alice.attempt("post", "--media", str(picture), "--json")
    assert refused.returncode != 0 and "Validation failed: A post cannot be empty" in refused.stderr

    uploaded = alice.json("upload", str(picture), "--description", "Uploaded on its own")
    assert uploaded["type"] == "image" and uploaded["description"] == "Uploaded on its own"
