"""An independent ActivityPub implementation against ours: the Fediverse Test Framework's actor
verification (``fediverse-pasture``, on ``bovine``), run here offline.

Its verify-actor server (a Quart app, in a process of its own) serves six test actors and, asked about
one of our actors, fetches it, resolves it by WebFinger and POSTs to its inbox as each of them:

- alice and dean POST without a signature: our inbox must refuse that;
- bob signs his POST: we fetch his actor (and key) and accept it;
- claire signs too, and gives her actor only to a signed GET: accepted only if our key fetch is signed
  (authorized fetch).

dean, emily and frank are alice, bob and claire without a ``preferredUsername``: an actor without a
name cannot be an account here (``name@domain``), so, as on Mastodon (which checks that name with
WebFinger), their signed POSTs are refused too. All six must be able to read our actor.

fediverse-pasture cannot share the app's virtualenv (bovine 0.5 pins cryptography<46; ours is newer),
so it lives in one of its own: ``PASTURE_PYTHON`` names its interpreter, else
``tests/clients/pasture/.venv/bin/python`` (see that folder's requirements.txt). Without it the test
skips, or fails under ``REQUIRE_PASTURE=1`` (CI).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bench.servers import free_port
from microblog.extensions import db
from microblog.models import User
from tests.conftest import require_or_skip

pytestmark = [pytest.mark.federation, pytest.mark.slow]

PASTURE_VENV_PYTHON = Path(__file__).resolve().parents[1] / "clients" / "pasture" / ".venv" / "bin" / "python"
SIGNED = ("bob", "claire")
REFUSED = ("alice", "dean", "emily", "frank")  # unsigned, or no preferredUsername


def pasture_python() -> str | None:
    candidate = os.environ.get("PASTURE_PYTHON") or str(PASTURE_VENV_PYTHON)
    if not Path(candidate).is_file():
        return None
    found = subprocess.run([candidate, "-c", "import fediverse_pasture"], capture_output=True, timeout=60,
                           check=False)
    return candidate if found.returncode == 0 else None


@pytest.fixture
def pasture(tmp_path) -> Iterator[str]:
    """The verify-actor server on a free loopback port (its test actors at http://127.0.0.1:<port>/)."""
    python = pasture_python()
    require_or_skip(python is not None, "fediverse-pasture (PASTURE_PYTHON, or tests/clients/pasture/.venv)",
                    "REQUIRE_PASTURE")
    assert python is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "pasture.log"
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    with open(log, "w") as out:
        # It writes its actors' keys (data.toml) and a JSON-LD cache in its working folder.
        server = subprocess.Popen([python, "-m", "fediverse_pasture.verify_actor", "--port", str(port),
                                   "--domain", f"127.0.0.1:{port}", "--timeout", "10"],
                                  cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"the pasture server exited:\n{log.read_text()}"
            try:
                if requests.get(base + "/bob", headers={"Accept": "application/activity+json"},
                                timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"the pasture server did not start:\n{log.read_text()}"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_pasture_verifies_our_actor(pasture, live_site):
    """The live site (tests/mastodon_live.py: the test app, private addresses allowed, on a free port)."""
    actor = f"{live_site.url}/user/alice"
    answer = requests.get(pasture + "/", params={"actor_uri": actor}, headers={"Accept": "application/json"},
                          timeout=180)
    assert answer.status_code == 200, answer.text[:2000]
    verdict = answer.json()
    result, steps = verdict["result"], verdict["messages"]
    assert result["webfinger"] is True, steps
    for name in SIGNED + REFUSED:
        assert result[name]["get_actor"] is True, (name, steps)
    for name in REFUSED:
        assert result[name]["post_inbox"] is False, (f"{name}'s POST was accepted", steps)
    for name in SIGNED:
        assert result[name]["post_inbox"] is True, (f"{name}'s signed POST was refused", steps)
    # Each signer's actor was fetched and kept, with its key: claire's only answers a signed GET.
    with live_site.app.app_context():
        kept = {user.actor_uri: user for user in db.session.scalars(
            sa.select(User).where(User.domain == f"127.0.0.1:{pasture.rsplit(':', 1)[1]}"))}
    assert sorted(kept) == sorted(f"{pasture}/{name}" for name in SIGNED)
    for name in SIGNED:
        assert kept[f"{pasture}/{name}"].public_key_pem, name
