"""masto.js, the JavaScript Mastodon client, against a running server (tests/mastodon_live.py): a small
node script (tests/clients/masto/flow.mjs, masto from its package-lock.json by `npm ci`) posts, pages
the home timeline by its Link headers, replies, favourites, reads a hashtag, notifications and a search,
uploads a picture and deletes a post with tokens the test got through the code flow. masto.js sends
JSON bodies with snake_case keys and reads the answers back in camelCase.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.mastodon_live import require_client, user_token
from tests.media_samples import png_bytes

NODE = shutil.which("node")
MASTO = Path(__file__).resolve().parent / "clients" / "masto"
# A node process and a media poll that waits a second: out of the fast lane (make test runs it).
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _masto_installed() -> None:
    require_client(NODE is not None and (MASTO / "node_modules" / "masto").is_dir(),
                   "masto.js (node, and `npm ci` in tests/clients/masto)")


def test_masto_js_posts_pages_replies_favourites_uploads_and_deletes(live):
    env = {**os.environ, "MASTO_URL": live, "ALICE_TOKEN": user_token(live, "alice"),
           "BOB_TOKEN": user_token(live, "bob"), "PNG_BASE64": base64.b64encode(png_bytes(16, 16)).decode(),
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    done = subprocess.run([NODE, "flow.mjs"], cwd=MASTO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    assert out["me"]["username"] == "alice" and out["instance"]["apiVersions"]["mastodon"] == 2
    posted = out["posted"]
    assert out["pages"] == [posted[4:2:-1], posted[2:0:-1], posted[:1]]  # two a page, newest first

    first = posted[0]
    assert out["reply"]["inReplyToId"] == first
    assert out["favourited"]["favourited"] is True and out["favourited"]["favouritesCount"] == 1
    assert [status["id"] for status in out["context"]["descendants"]] == [out["reply"]["id"]]
    assert out["tagged"] == posted[::-1]
    kinds = sorted((n["type"], n["account"]["acct"]) for n in out["notifications"])
    assert kinds == [("favourite", "bob"), ("mention", "bob")]
    assert "bob" in [account["acct"] for account in out["search"]["accounts"]]

    assert out["media"]["url"] and out["media"]["description"] == "A square from masto.js"
    [attached] = out["withMedia"]["mediaAttachments"]
    assert attached["id"] == out["media"]["id"] and attached["type"] == "image"

    assert out["deleted"]["id"] == posted[4] and out["afterDelete"] == 404
