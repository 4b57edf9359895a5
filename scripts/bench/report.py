#!/usr/bin/env python3
"""Summarizes one run of scripts/bench/load.sh: medians of the wrk and database-limit
runs, ratios, statement counts (checked against the limit scripts), peak RSS, the
login-flood figure, and which targets of docs/performance.md hold. Prints a table
and writes the JSON file named on the command line."""

import argparse
import json
import os
import re
import statistics
import sys

ENDPOINTS = ["health", "get_one", "list", "create", "patch"]
LABELS = {
    "health": "GET /health/live",
    "get_one": "GET one",
    "list": "GET list",
    "create": "POST create",
    "patch": "PATCH rotate",
}
# Minimum ratio of the server's requests per second to the database limit.
RATIO_TARGETS = {
    ("sqlite", "get_one"): 0.60,
    ("postgres", "get_one"): 0.40,
    ("sqlite", "create"): 0.40,
    ("postgres", "create"): 0.50,
}
P99_TARGET_MS = 25.0
RSS_TARGET_MIB = 64.0
GET_ONE_MAX_STATEMENTS = 2
FLOOD_P99_FACTOR = 3.0


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def template_statements(path, backend):
    """The statements of a limit script, with parameters as the server sends them.

    A pgbench pipeline (\\startpipeline, statements, \\endpipeline) stands for the one
    multi-statement string the server sends in one round trip ("BEGIN; SET LOCAL
    ..."), which pgbench cannot prepare: its statements are joined with "; "."""
    statements, current, pipeline = [], "", None
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not current and line == "\\startpipeline":
                pipeline = []
                continue
            if not current and line == "\\endpipeline":
                if pipeline:
                    statements.append("; ".join(pipeline))
                pipeline = None
                continue
            if not current and (not line or line.startswith("--") or line.startswith("\\")):
                continue
            current = f"{current} {line}".strip()
            if current.endswith(";"):
                (statements if pipeline is None else pipeline).append(current[:-1].strip())
                current = ""
    rendered = []
    for statement in statements:
        counter = iter(range(1, 1000))
        if backend == "postgres":
            text = re.sub(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)", lambda _m: f"${next(counter)}", statement)
        else:
            text = re.sub(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)", "?", statement)
        rendered.append(text)
    return rendered


# Diesel's savepoint statements. With SQLite group commit, the server runs each write
# request inside a BEGIN IMMEDIATE ... COMMIT shared with other writes, in a savepoint
# of its own (SAVEPOINT diesel_savepoint_N ... RELEASE SAVEPOINT diesel_savepoint_N, or
# ROLLBACK TO SAVEPOINT on failure). The limit scripts run the same statements one
# request per transaction (BEGIN IMMEDIATE; statements; COMMIT), the baseline the
# server is compared with, so the comparison leaves out the lines that are exactly
# such a statement (and nothing else).
SAVEPOINT = re.compile(r"(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) diesel_savepoint_[0-9]+")


def without_savepoints(statements):
    return [s for s in statements if not SAVEPOINT.fullmatch(s.strip())]


# A parameter the server binds as NULL (an optional column left empty) is a literal
# NULL in a limit script: neither pgbench nor sqlite-limit can bind a NULL variable.
# The comparison takes every parameter placeholder and every literal NULL as one
# token, on both sides alike.
PLACEHOLDER = re.compile(r"\$[0-9]+|\?|\bNULL\b")


def normalize(sql):
    return PLACEHOLDER.sub("?", " ".join(sql.split()))


def backend_summary(raw, sql_dir, backend):
    directory = os.path.join(raw, backend)
    summary = {"endpoints": {}}
    for endpoint in ENDPOINTS:
        runs = read_jsonl(os.path.join(directory, f"wrk.{endpoint}.jsonl"))
        entry = {
            "runs": runs,
            "rps": median([r["rps"] for r in runs]),
            "p50_ms": median([r["p50_ms"] for r in runs]),
            "p99_ms": median([r["p99_ms"] for r in runs]),
            "non_2xx": sum(r["non_2xx"] for r in runs),
            "socket_errors": sum(r["socket_errors"] for r in runs),
        }
        if endpoint != "health":
            limits = read_jsonl(os.path.join(directory, f"limit.{endpoint}.jsonl"))
            entry["limit_runs"] = limits
            entry["limit_tps"] = median([l["tps"] for l in limits])
            entry["limit_tool"] = (
                "pgbench -M prepared, 8 clients" if backend == "postgres" else "sqlite-limit, 1 connection"
            )
            entry["ratio"] = (
                entry["rps"] / entry["limit_tps"] if entry["rps"] and entry["limit_tps"] else None
            )
            count = read_json(os.path.join(directory, f"count.{endpoint}.json")) or {}
            entry["statements_per_request"] = count.get("statements")
            entry["pool_checks_per_request"] = count.get("pool_checks")
            expected = template_statements(os.path.join(sql_dir, backend, f"{endpoint}.sql"), backend)
            seen = count.get("first_request", [])
            entry["statements"] = seen
            entry["savepoints_per_request"] = count.get("savepoints")
            entry["limit_script_matches_server"] = [normalize(s) for s in without_savepoints(seen)] == [
                normalize(s) for s in expected
            ]
        summary["endpoints"][endpoint] = entry
    flood = read_jsonl(os.path.join(directory, "wrk.get_one_flood.jsonl"))
    logins = read_jsonl(os.path.join(directory, "wrk.login_flood.jsonl"))
    summary["login_flood"] = {
        "get_one": flood[0] if flood else None,
        "logins": logins[0] if logins else None,
        "get_one_p99_ms_without": summary["endpoints"]["get_one"]["p99_ms"],
    }
    for name, key in [("rss_kib", "peak_rss_mib"), ("rss_flood_kib", "peak_rss_mib_with_login_flood")]:
        path = os.path.join(directory, name)
        summary[key] = int(open(path).read().strip()) / 1024 if os.path.exists(path) else None
    return summary


def check_targets(backend, summary):
    checks = []
    endpoints = summary["endpoints"]
    for (target_backend, endpoint), minimum in RATIO_TARGETS.items():
        if target_backend != backend:
            continue
        ratio = endpoints[endpoint].get("ratio")
        checks.append({
            "target": f"{LABELS[endpoint]}: at least {minimum:.0%} of the {backend} limit",
            "value": None if ratio is None else round(ratio, 3),
            "holds": ratio is not None and ratio >= minimum,
        })
    statements = endpoints["get_one"].get("statements_per_request")
    checks.append({
        "target": f"GET one: at most {GET_ONE_MAX_STATEMENTS} statements per request besides the pool check",
        "value": statements,
        "holds": statements is not None and statements <= GET_ONE_MAX_STATEMENTS,
    })
    for endpoint in ENDPOINTS:
        p99 = endpoints[endpoint]["p99_ms"]
        checks.append({
            "target": f"{LABELS[endpoint]}: p99 at most {P99_TARGET_MS:g} ms",
            "value": p99,
            "holds": p99 is not None and p99 <= P99_TARGET_MS,
        })
    for endpoint in ENDPOINTS:
        bad = endpoints[endpoint]["non_2xx"] + endpoints[endpoint]["socket_errors"]
        checks.append({
            "target": f"{LABELS[endpoint]}: no non-2xx answers or socket errors",
            "value": bad,
            "holds": bad == 0,
        })
    for endpoint in ENDPOINTS:
        if endpoint == "health":
            continue
        matches = endpoints[endpoint].get("limit_script_matches_server")
        checks.append({
            "target": f"{LABELS[endpoint]}: the limit script runs exactly the server's statements",
            "value": matches,
            "holds": bool(matches),
        })
    rss = summary["peak_rss_mib"]
    checks.append({
        "target": f"peak RSS under the load at most {RSS_TARGET_MIB:g} MiB",
        "value": None if rss is None else round(rss, 1),
        "holds": rss is not None and rss <= RSS_TARGET_MIB,
    })
    flood = summary["login_flood"]
    base = flood["get_one_p99_ms_without"]
    during = flood["get_one"]["p99_ms"] if flood["get_one"] else None
    factor = during / base if during and base else None
    flood["p99_factor"] = factor
    checks.append({
        "target": f"GET one p99 during a login flood at most {FLOOD_P99_FACTOR:g}x its p99 without",
        "value": None if factor is None else round(factor, 2),
        "holds": factor is not None and factor <= FLOOD_P99_FACTOR,
    })
    return checks


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("sql_dir")
    parser.add_argument("out")
    parser.add_argument("--duration", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--limit-seconds", type=int)
    parser.add_argument("--elapsed", type=int)
    parser.add_argument("--load-average")
    args = parser.parse_args()

    report = {
        "method": {
            "wrk": f"-t2 -c32 -d{args.duration}s, {args.runs} runs, medians",
            "limits": f"{args.runs} runs of {args.limit_seconds}s, medians; PostgreSQL: pgbench -M prepared -c 8 -j 2; "
            "SQLite: sqlite-limit on one connection",
            "login_flood": "wrk -t1 -c8 POST /auth/login/ with valid credentials during one GET one run",
            "elapsed_seconds": args.elapsed,
            "load_average_at_end": args.load_average,
            "machine": {"cpus": os.cpu_count()},
        },
        "backends": {},
    }
    lines = []
    header = f"{'backend':9} {'endpoint':17} {'rps':>9} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>7} {'db limit':>9} {'ratio':>6} {'stmts':>6} {'checks':>6}"
    lines.append(header)
    lines.append("-" * len(header))
    all_checks = []
    for backend in ["sqlite", "postgres"]:
        if not os.path.isdir(os.path.join(args.raw, backend)):
            continue
        summary = backend_summary(args.raw, args.sql_dir, backend)
        summary["targets"] = check_targets(backend, summary)
        report["backends"][backend] = summary
        for endpoint in ENDPOINTS:
            e = summary["endpoints"][endpoint]
            lines.append(
                f"{backend:9} {LABELS[endpoint]:17} {fmt(e['rps'], '9.0f')} {fmt(e['p50_ms'], '7.2f')} "
                f"{fmt(e['p99_ms'], '7.2f')} {e['non_2xx'] + e['socket_errors']:7d} {fmt(e.get('limit_tps'), '9.0f')} "
                f"{fmt(e.get('ratio'), '6.2f')} {fmt(e.get('statements_per_request'), '6.1f')} "
                f"{fmt(e.get('pool_checks_per_request'), '6.1f')}"
            )
        flood = summary["login_flood"]
        during = flood["get_one"] or {}
        logins = flood["logins"] or {}
        lines.append(
            f"{backend:9} {'GET one + logins':17} {fmt(during.get('rps'), '9.0f')} {fmt(during.get('p50_ms'), '7.2f')} "
            f"{fmt(during.get('p99_ms'), '7.2f')} {during.get('non_2xx', 0) + during.get('socket_errors', 0):7d} "
            f"  (logins {fmt(logins.get('rps'), '.0f')}/s, p99 {fmt(logins.get('p99_ms'), '.1f')} ms; "
            f"GET one p99 x{fmt(flood.get('p99_factor'), '.2f')})"
        )
        lines.append(
            f"{backend:9} peak RSS {fmt(summary['peak_rss_mib'], '.1f')} MiB under the load, "
            f"{fmt(summary['peak_rss_mib_with_login_flood'], '.1f')} MiB after the login flood"
        )
        all_checks += [(backend, c) for c in summary["targets"]]
    lines.append("")
    lines.append("stmts: SQL statements per request (pool checks and Diesel savepoints not included); "
                 "checks: r2d2 checkout pings per request")
    lines.append("")
    lines.append("targets:")
    for backend, check in all_checks:
        mark = "holds " if check["holds"] else "MISSED"
        lines.append(f"  {mark} [{backend}] {check['target']} (got {check['value']})")
    report["table"] = "\n".join(lines)
    report["all_targets_hold"] = all(c["holds"] for _, c in all_checks)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=2)
    print(report["table"])
    print(f"\nwritten: {args.out} (elapsed {args.elapsed}s, load average at the end {args.load_average})")


if __name__ == "__main__":
    sys.exit(main())
