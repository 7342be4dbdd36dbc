"""`make audit`: Lighthouse (mobile) on Explore, a profile and sign-in, served as the Procfile serves them.

A fresh SQLite database in a work folder gets `flask db upgrade` and the demo data (`flask seed`, as
`make run` does); then the Procfile's own `web:` line runs (gunicorn, production settings, a random
secret key) on a free port. Lighthouse 12.2.3 comes from this folder's package-lock.json (`npm ci`, the
first time or after the lock changes; nothing global) and drives Debian's Chromium (CHROME_PATH). Each
page is audited ``--runs`` times; the median of each score is kept. The table is printed and saved as
bench/results/<date>-<host>-audit.md and .json, beside the bench results, with what each category
flagged.

    make audit                     # or: .venv/bin/python bench/audit/run.py --runs 1 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

AUDIT_DIR = Path(__file__).resolve().parent
ROOT = AUDIT_DIR.parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import RESULTS_DIR, machine  # noqa: E402
from bench.servers import free_port, production_env, say  # noqa: E402

LIGHTHOUSE = AUDIT_DIR / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
GOALS = {"performance": 95, "best-practices": 100, "seo": 100, "accessibility": 100}
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")


def npm_ci() -> None:
    """Install Lighthouse from the lock when node_modules is missing or older than the lock."""
    stamp = AUDIT_DIR / "node_modules" / ".package-lock.json"
    lock = AUDIT_DIR / "package-lock.json"
    if LIGHTHOUSE.exists() and stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    say("npm ci (bench/audit)")
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=AUDIT_DIR, check=True)


def flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "microblog", *args], env=env,
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def procfile_web() -> str:
    """The Procfile's `web:` command."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise SystemExit("audit: the Procfile has no web: line")


def get(url: str, encoding: str = "br, gzip") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.status, reply.read().decode("latin-1")


def serve(env: dict[str, str], work: Path, port: int) -> subprocess.Popen:
    """The Procfile's web process (its own shell line, the venv's tools first on PATH)."""
    log = open(work / "web.log", "a")  # noqa: SIM115 (open for the server's lifetime)
    process = subprocess.Popen(["sh", "-c", procfile_web()], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"audit: the web process exited; see {work / 'web.log'}")
        try:
            if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit("audit: the web process did not answer within 90 s")


def warm(base: str, paths: list[str]) -> None:
    """Fetch each page and its static files a few times, so every worker has compressed them once
    (brotli's best level is slow the first time; visitors after the first never wait for it)."""
    for _ in range(4):
        for path in paths:
            _, page = get(base + path, "identity")
            for asset in re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js|svg|png))"', page):
                for encoding in ("br", "gzip", "identity"):
                    get(base + asset, encoding)


def lighthouse(url: str, out: Path) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROME}
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           f"--only-categories={','.join(CATEGORIES)}", "--chrome-flags=--headless=new --no-sandbox"]
    subprocess.run(cmd, env=env, check=True, cwd=AUDIT_DIR)
    return json.loads(out.read_text())


def flagged(report: dict) -> dict[str, list[str]]:
    """Per category, the audits that lost points: "id (score): title"."""
    audits = report["audits"]
    found: dict[str, list[str]] = {}
    for name, category in report["categories"].items():
        for ref in category["auditRefs"]:
            audit = audits[ref["id"]]
            if ref["weight"] and audit.get("score") is not None and audit["score"] < 1:
                value = f" {audit['displayValue']}" if audit.get("displayValue") else ""
                line = f"{ref['id']} ({audit['score']:.2f}{value}): {audit['title']}"
                found.setdefault(name, []).append(line)
    return found


def table(rows: list[dict]) -> str:
    lines = ["| page | " + " | ".join(CATEGORIES) + " | FCP | LCP | TBT | CLS |",
             "|---|" + "---:|" * (len(CATEGORIES) + 4)]
    for row in rows:
        scores = " | ".join(f"{row['scores'][c]}" + ("" if row["scores"][c] >= GOALS[c] else " (!)")
                            for c in CATEGORIES)
        metrics = row["metrics"]
        lines.append(f"| {row['page']} | {scores} | {metrics['fcp']} | {metrics['lcp']} | {metrics['tbt']} "
                     f"| {metrics['cls']} |")
    return "\n".join(lines)


def audit_page(name: str, url: str, runs: int, work: Path) -> dict:
    reports = [lighthouse(url, work / f"{name}-{run}.json") for run in range(runs)]
    scores = {c: int(round(100 * statistics.median(r["categories"][c]["score"] or 0 for r in reports)))
              for c in CATEGORIES}
    # The run whose performance score is the median stands for the page (metrics and findings).
    middle = sorted(reports, key=lambda r: r["categories"]["performance"]["score"] or 0)[len(reports) // 2]
    audits = middle["audits"]
    metrics = {"fcp": audits["first-contentful-paint"]["displayValue"],
               "lcp": audits["largest-contentful-paint"]["displayValue"],
               "tbt": audits["total-blocking-time"]["displayValue"],
               "cls": audits["cumulative-layout-shift"]["displayValue"]}
    say(f"  {name}: " + ", ".join(f"{c} {scores[c]}" for c in CATEGORIES))
    return {"page": name, "url": url, "scores": scores, "metrics": metrics, "flagged": flagged(middle),
            "all_runs": [{c: r["categories"][c]["score"] for c in CATEGORIES} for r in reports]}


def report_text(rows: list[dict], started: datetime, runs: int) -> str:
    lines = [f"# Lighthouse audit, {started:%Y-%m-%d %H:%M} UTC", "",
             f"Lighthouse 12.2.3, mobile profile (its default throttling), Chromium at {CHROME}; the median "
             f"of {runs} run(s) per page. The app is served by the Procfile's web line (gunicorn, production "
             "settings) on SQLite with `flask seed` demo data. Goals: performance >= 95, best practices, SEO "
             "and accessibility 100; (!) marks a miss. Load average when done: "
             f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores (Lighthouse's CPU "
             "throttling makes a busy machine score lower).", "", table(rows), ""]
    for row in rows:
        lines.append(f"## {row['page']} ({row['url']})")
        if not row["flagged"]:
            lines.append("Nothing flagged.")
        for category, items in row["flagged"].items():
            lines.append(f"- {category}:")
            lines.extend(f"  - {item}" for item in items)
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (the median counts)")
    parser.add_argument("--no-save", action="store_true", help="print the table, do not write bench/results/")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, reports, log)")
    args = parser.parse_args()
    if not Path(CHROME).exists():
        raise SystemExit(f"audit: no Chromium at {CHROME} (set CHROME_PATH)")
    started = datetime.now(UTC)
    npm_ci()
    work = Path(tempfile.mkdtemp(prefix="microblog-audit-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (work / "instance").mkdir()
    env = production_env(f"sqlite:///{work / 'app.db'}", work / "instance", SITE_URL=base, PORT=str(port),
                         WEB_CONCURRENCY="2")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    say(f"audit: seeding {work / 'app.db'}")
    flask(env, "db", "upgrade")
    flask(env, "seed", "--if-empty", "--users", "40", "--posts", "400", "--follows", "8")
    say(f"audit: serving on {base} ({shlex.split(procfile_web())[-1]})")
    process = serve(env, work, port)
    try:
        _, explore = get(f"{base}/explore", "identity")
        profile = re.search(r'href="(/user/[^"/]+)"', explore)
        if profile is None:
            raise SystemExit("audit: Explore links to no profile (was the demo data seeded?)")
        pages = {"explore": "/explore", "profile": profile.group(1), "sign-in": "/auth/login"}
        warm(base, list(pages.values()))
        rows = [audit_page(name, base + path, args.runs, work) for name, path in pages.items()]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"kept: {work}")
    text = report_text(rows, started, args.runs)
    print("\n" + table(rows))
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stem = f"{started:%Y-%m-%d-%H%M}-{socket.gethostname()}-audit"
        (RESULTS_DIR / f"{stem}.md").write_text(text + "\n")
        (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(
            {"started": started.isoformat(), "machine": machine(), "lighthouse": "12.2.3", "runs": args.runs,
             "pages": rows}, indent=1) + "\n")
        say(f"\nsaved: bench/results/{stem}.md (and .json)")


if __name__ == "__main__":
    main()
