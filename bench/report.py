"""The bench's verdict: each row against the goals (bench/README.md), as a Markdown table and report."""

from __future__ import annotations

import os
import platform
import socket
import sqlite3
from pathlib import Path

from bench.measure import BENCH_DIR, WrkOptions

RESULTS_DIR = BENCH_DIR / "results"

# Goals (see bench/README.md): latency for every path, throughput against hello world per group.
P50_GOAL_MS = 15.0
P99_GOAL_MS = 50.0
RATIO_GOALS = {"page": 0.15, "api": 0.25}
RSS_GOAL_MB = 150
DEPTH_GOAL = 1.5
QUERY_GOAL = 6


def depth_pairs(rows: list[dict]) -> list[tuple[dict, dict]]:
    """(page 1, deep page) rows of the home timeline and explore."""
    pairs = []
    by_key = {r["key"]: r for r in rows}
    for key in ("home", "explore"):
        if key in by_key and f"{key}-deep" in by_key:
            pairs.append((by_key[key], by_key[f"{key}-deep"]))
    return pairs


def evaluate(result: dict, baseline: dict | None) -> None:
    """Mark each row with the goals it meets or misses."""
    hello_rps = result["hello"]["rps"]
    small = {r["key"]: r for r in (baseline or {}).get("rows", [])}
    for row in result["rows"]:
        misses = []
        row["ratio"] = row["rps"] / hello_rps
        if row["p50_ms"] >= P50_GOAL_MS:
            misses.append(f"p50>={P50_GOAL_MS:g}")
        if row["p99_ms"] >= P99_GOAL_MS:
            misses.append(f"p99>={P99_GOAL_MS:g}")
        goal = RATIO_GOALS.get(row["group"])
        if goal is not None and row["ratio"] < goal:
            misses.append(f"ratio<{goal:.0%}")
        if row.get("queries") is None or row["queries"] > QUERY_GOAL:
            misses.append(f"queries>{QUERY_GOAL}")
        if row["error_count"]:
            misses.append(f"{row['error_count']} errors")
        twin = small.get(row["key"])
        if twin is not None:
            row["growth"] = row["cpu_ms"] / twin["cpu_ms"]
            if row["growth"] > DEPTH_GOAL:
                misses.append(f"growth>{DEPTH_GOAL:g}x")
        row["misses"] = misses
    for first, deep in depth_pairs(result["rows"]):
        deep["depth"] = deep["cpu_ms"] / first["cpu_ms"]
        if deep["depth"] > DEPTH_GOAL:
            deep["misses"].append(f"depth>{DEPTH_GOAL:g}x")


def table(result: dict) -> str:
    has_growth = any("growth" in r for r in result["rows"])
    head = "| path | req/s | p50 ms | p99 ms | worker CPU ms/req | SQL/req | vs hello |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if has_growth:
        head += " CPU vs small set |"
        rule += "---:|"
    head += " goals |"
    rule += "---|"
    lines = [head, rule]
    hello = result["hello"]
    lines.append(f"| hello world (ceiling) | {hello['rps']:.0f} | {hello['p50_ms']:.2f} "
                 f"| {hello['p99_ms']:.2f} | {hello['cpu_ms']:.2f} | - | 100% |"
                 + (" - |" if has_growth else "") + " - |")
    for row in result["rows"]:
        cost = ""
        if "depth" in row:
            cost = f" (cost {row['depth']:.2f}x page 1)"
        line = (f"| {row['name']}{cost} | {row['rps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
                f"| {row['cpu_ms']:.2f} | {row.get('queries', '?')} | {row['ratio']:.1%} |")
        if has_growth:
            line += f" {row['growth']:.2f}x |" if "growth" in row else " - |"
        line += (" ok |" if not row["misses"] else " " + ", ".join(row["misses"]) + " |")
        lines.append(line)
    return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"host": socket.gethostname(), "cpu": cpu, "cores": str(os.cpu_count()), "memory": memory,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "os": platform.platform()}


def result_section(result: dict) -> list[str]:
    """One data set's heading, context line and table."""
    sizes, user, (load_before, load_after) = result["sizes"], result["user"], result["load"]
    context = (f"Signed in as `{user['username']}`, who follows {user['follows']} people. "
               f"Load average before/after (other work on the machine): {load_before} / {load_after}.")
    if not result["searchable"]:
        context += " Search not measured (no /search route, or --no-search)."
    if result.get("rss_mb"):
        sizes_mb = ", ".join(f"{mb:.0f} MB" for mb in result["rss_mb"])
        context += (f" Memory of each gunicorn worker after the run: {sizes_mb} RSS"
                    f" (goal: under {RSS_GOAL_MB} MB).")
    return [f"## {result['database']}: {result['label']} ({sizes['users']:,} users, "
            f"{sizes['posts']:,} posts, {sizes['follows']} follows each)", "",
            context, "", table(result), ""]


def report(results: list[dict], workers: int, options: WrkOptions, started, extra: dict) -> str:
    """The whole run as Markdown: the machine, the settings, the goals, then a table per data set."""
    info = machine()
    out = [f"# microblog benchmark, {started:%Y-%m-%d %H:%M} UTC, {info['host']}", "",
           f"- machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; {info['os']}",
           f"- Python {info['python']}, SQLite {info['sqlite']}"
           + (f", {extra['postgres']}" if extra.get("postgres") else ""),
           f"- gunicorn: {workers} sync workers (as the Procfile), MICROBLOG_ENV=production; "
           f"wrk: {options.threads} threads, {options.connections} connections, "
           f"{options.warmup:g} s warm-up, {options.duration:g} s measured, per path",
           "- SQL/req: statements per request, counted in-process with the test client on the same "
           "database after one warm-up request (bench/count_queries.py)",
           f"- goals: p50 < {P50_GOAL_MS:g} ms, p99 < {P99_GOAL_MS:g} ms, SQL/req <= {QUERY_GOAL}, "
           f"req/s >= {RATIO_GOALS['page']:.0%} of hello world (pages), "
           f">= {RATIO_GOALS['api']:.0%} (API reads), deep pages and the big set within {DEPTH_GOAL:g}x",
           "- worker CPU ms/req: CPU time the gunicorn workers (and, on PostgreSQL, the database's server "
           "processes) spent per request during the measured run; unlike req/s and latency it barely "
           "moves when other work shares the machine, so the cost ratios (deep page against page 1, "
           "full set against small set) use it", ""]
    for result in results:
        out += result_section(result)
    return "\n".join(out)
