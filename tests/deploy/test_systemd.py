"""The systemd units: `systemd-analyze verify` accepts them, and each hardening option is there and explained.

verify checks the syntax, every key's name and value, and that the programs in Exec*= exist and
can be run: the units are verified with /srv/microblog pointing at this checkout and its venv.
A misspelt key or a bad value is only a warning to verify (exit status 0), so any message about
our units fails the test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.servers import BIN, ROOT
from tests.deploy.conftest import program

UNITS = ("microblog.service", "microblog-worker.service")
# Option -> what its value must satisfy; each needs a comment right above it saying why.
HARDENING = {
    "User": lambda value: value not in ("", "root", "0"),
    "NoNewPrivileges": lambda value: value == "yes",
    "ProtectSystem": lambda value: value in ("strict", "full"),
    "PrivateTmp": lambda value: value == "yes",
}


def service_section(unit: str) -> list[tuple[str, str, list[str]]]:
    """The [Service] lines as (key, value, the comment lines right above it)."""
    found, comments, section = [], [], None
    for line in (ROOT / "deploy" / unit).read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section, comments = line, []
        elif line.startswith("#"):
            comments.append(line)
        elif "=" in line and section == "[Service]":
            key, _, value = line.partition("=")
            found.append((key.strip(), value.strip(), comments))
            comments = []
        elif not line:
            comments = []
    return found


@pytest.mark.parametrize("unit", UNITS)
def test_hardening_options_are_set_and_explained(unit):
    options = {key: (value, comments) for key, value, comments in service_section(unit)}
    for key, acceptable in HARDENING.items():
        assert key in options, f"{unit} has no {key}="
        value, comments = options[key]
        assert acceptable(value), f"{unit}: {key}={value} is not hardened"
        assert comments, f"{unit}: say in a comment right above {key}= why it is there"
    # ProtectSystem=strict makes everything read-only: the folders the app writes must be named.
    assert "/srv/microblog/instance" in options["ReadWritePaths"][0]


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path):
    analyze = program("systemd-analyze", "Debian package systemd")
    for unit in UNITS:
        text = (ROOT / "deploy" / unit).read_text()
        assert text.count("/srv/microblog/.venv/bin/") >= 1
        text = text.replace("/srv/microblog/.venv/bin/", f"{BIN}/").replace("/srv/microblog", str(ROOT))
        (tmp_path / unit).write_text(text)
    done = subprocess.run([analyze, "verify", *(str(tmp_path / unit) for unit in UNITS)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ours = [line for line in (done.stdout + done.stderr).splitlines()
            if str(tmp_path) in line or any(unit in line for unit in UNITS)]
    assert ours == [], "\n".join(ours)
