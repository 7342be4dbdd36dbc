"""What the bench measures: wrk's throughput and latency, the workers' CPU and memory, SQL per request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import PYTHON, Server, run, say

BENCH_DIR = Path(__file__).resolve().parent
QUIET_LOAD = 0.7  # 1-minute load average under which the machine counts as idle


@dataclass
class Target:
    """One row of the table: a request shape and what it must achieve."""

    key: str  # the same on every data set, to compare them
    name: str
    path: str
    group: str = ""  # "page" or "api" (throughput goal), "" for none
    method: str = "GET"
    body: str = ""
    auth: str = "cookie"  # "cookie" (signed-in session), "bearer" (API token) or "none"
    # Every other request goes to this path instead (like, then unlike: the state never runs out).
    alternate: str = ""
    # A body too large for the environment (an upload): a file, sent with this Content-Type.
    body_file: str = ""
    content_type: str = ""
    # Another signed-in member's session, instead of the bench user's.
    cookie: str = ""
    # Another bearer token, instead of the bench user's API token (a Mastodon app's OAuth token).
    bearer: str = ""
    result: dict = field(default_factory=dict)


@dataclass
class WrkOptions:
    """How hard and how long wrk loads each path."""

    threads: int = 2
    connections: int = 4
    warmup: float = 3  # seconds, not measured
    duration: float = 10  # seconds measured


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing: installing the Debian package")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: could not install wrk (apt-get install -y wrk)")
    return found


def wrk(wrk_bin: str, server: Server, target: Target, seconds: float, options: WrkOptions,
        cookie: str, bearer: str) -> dict:
    env = {**os.environ, "BENCH_METHOD": target.method, "BENCH_BODY": target.body,
           "BENCH_BODY_FILE": target.body_file, "BENCH_CONTENT_TYPE": target.content_type,
           "BENCH_ALTERNATE": target.alternate,
           "BENCH_COOKIE": (target.cookie or cookie) if target.auth == "cookie" else "",
           "BENCH_AUTH": f"Bearer {target.bearer or bearer}" if target.auth == "bearer" else ""}
    cmd = [wrk_bin, f"-t{options.threads}", f"-c{options.connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", "10s", "--latency", "-s", str(BENCH_DIR / "wrk.lua"),
           f"http://127.0.0.1:{server.port}{target.path}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"bench: no summary from wrk:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len("BENCH_JSON "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["p50_ms"] = data["p50_us"] / 1000
    data["p99_ms"] = data["p99_us"] / 1000
    data["error_count"] = sum(data["errors"].values())
    return data


def cpu_seconds(master: int, database: str | None) -> float:
    """CPU time (user + system) used so far by gunicorn's workers (the master's children) and, on
    PostgreSQL, by the server processes connected to ``database``: what the requests cost."""
    ticks = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            ours = int(fields[1]) == master  # ppid
            if not ours and database:
                words = (proc / "cmdline").read_bytes().replace(b"\0", b" ").split()
                ours = len(words) > 2 and words[0] == b"postgres:" and words[2] == database.encode()
        except (OSError, IndexError, ValueError):
            continue
        if ours:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB."""
    sizes = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            lines = (proc / "status").read_text().splitlines()
            status = dict(line.split(":", 1) for line in lines if ":" in line)
            if int(status["PPid"]) == master:
                sizes.append(round(int(status["VmRSS"].split()[0]) / 1024, 1))
        except (OSError, KeyError, ValueError):
            continue
    return sorted(sizes)


def measure(wrk_bin: str, server: Server, target: Target, options: WrkOptions,
            cookie: str = "", bearer: str = "") -> dict:
    """Warm up, then load ``target`` with wrk; its figures plus the workers' CPU per request."""
    if options.warmup > 0:
        wrk(wrk_bin, server, target, options.warmup, options, cookie, bearer)
    load = os.getloadavg()[0]
    cpu_before = cpu_seconds(server.process.pid, server.database)
    result = wrk(wrk_bin, server, target, options.duration, options, cookie, bearer)
    # CPU the app's workers spent per request: what the path costs, whatever else the machine runs.
    cpu_after = cpu_seconds(server.process.pid, server.database)
    result["cpu_ms"] = (cpu_after - cpu_before) * 1000 / max(result["requests"], 1)
    result["load"] = round(load, 2)
    flag = f"  ({result['error_count']} errors: {result['errors']})" if result["error_count"] else ""
    say(f"  {target.name:<34} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:6.2f} ms"
        f"  p99 {result['p99_ms']:6.2f} ms  cpu {result['cpu_ms']:5.2f} ms/req  load {load:.2f}{flag}")
    return result


def wait_for_quiet(seconds: float) -> float:
    """Wait (up to ``seconds``) until other work on the machine settles; return the 1-minute load."""
    deadline = time.monotonic() + seconds
    load = os.getloadavg()[0]
    if seconds > 0 and load >= QUIET_LOAD:
        say(f"  load average {load:.2f}: waiting up to {seconds:.0f} s for the machine to settle...")
    while load >= QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(10)
        load = os.getloadavg()[0]
    if load >= QUIET_LOAD:
        say(f"  note: load average {load:.2f} before measuring: other work is running on this machine")
    return round(load, 2)


def count_queries(env: dict[str, str], targets: list[Target], cookie: str, bearer: str,
                  plans: Path) -> dict[str, int]:
    """SQL statements per request, counted in-process by bench/count_queries.py (see README).

    It also writes the plan of every SELECT of every GET target to ``plans``.
    """
    spec = [{"name": t.key, "path": t.path, "method": t.method, "body": t.body.replace("{n}", "q"),
             "body_file": t.body_file, "content_type": t.content_type, "cookie": t.cookie, "auth": t.auth,
             "bearer": t.bearer}
            for t in targets]
    env = {**env, "BENCH_TARGETS": json.dumps(spec), "BENCH_COOKIE": cookie, "BENCH_BEARER": bearer,
           "BENCH_EXPLAIN": str(plans)}
    out = run([PYTHON, str(BENCH_DIR / "count_queries.py")], env, "count queries", quiet=True)
    return json.loads(out.splitlines()[-1])
