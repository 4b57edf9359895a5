#!/usr/bin/env bash
# CPU per request: the server process's CPU time (user + system, from /proc/<pid>/stat)
# divided by the requests it answered, for each endpoint, beside the same figure for
# /health/live in the same run, on SQLite and then on PostgreSQL (issue 17, point 5).
#
# For each backend: a fresh database with one organization holding 50 configurations
# (so that "list" is always a page of exactly 50 rows, and GET one and PATCH go round
# robin over them) and a second organization that receives the creates (so that they
# never change what the list reads), the
# release server (rate limits off, log level warn), then for each endpoint a short
# wrk run (-t1 -c8: one load thread, so that wrk itself leaves the second core to the
# server) and the CPU the server spent during it. Ratios to /health/live are what the
# targets speak of: they cancel most of the machine's speed and its noise.
#
# Usage: scripts/bench/cpu.sh [sqlite] [postgres]      (default: both)
# Environment: CPU_SECONDS (per endpoint, 6), CPU_RUNS (3; the median is kept),
#   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_SKIP_BUILD=1,
#   CPU_PERF=1 (also record a flat `perf` profile of the server during each endpoint's
#   first run: target/bench/perf.<backend>.<endpoint>.data, read with `perf report -i`),
#   CPU_PERF_ARGS (extra `perf record` arguments, e.g. "--call-graph dwarf -F 499"),
#   CPU_ENDPOINTS (the endpoints to run, default "health get_one list create patch";
#   health always runs, the ratios need it).
# Prints a table and writes target/bench/cpu.json. Loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR="$ROOT/scripts/bench"
OUT_DIR="$ROOT/target/bench"
SECONDS_PER=${CPU_SECONDS:-6}
RUNS=${CPU_RUNS:-3}
PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=sb_cpu
BACKENDS=("$@")
[ ${#BACKENDS[@]} -eq 0 ] && BACKENDS=(sqlite postgres)

BENCH_NAME=cpu.sh
# shellcheck source=scripts/bench/lib.sh
. "$BENCH_DIR/lib.sh"

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || die "$tool is required (Debian: apt-get install wrk curl python3)"
done

RELEASE="$ROOT/target/release"
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    log "building the release binaries"
    (cd "$ROOT" && cargo build --release -q -p switchboard-server -p switchboard-admin)
fi
SERVER="$RELEASE/switchboard"
ADMIN="$RELEASE/switchboard-admin"
CLK_TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-cpu.XXXXXX")
mkdir -p "$OUT_DIR"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    psql "$PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


EMAIL=bench@bench.test
PASSWORD='bench password, long enough'
HANDLE=bench
# The organization the creates go to (the list's organization keeps its 50 rows).
CREATE_HANDLE=bench-writes
bench_server_env
export BENCH_LUA_DIR="$BENCH_DIR/wrk"

start_server() {
    PORT=$(free_port)
    export SWITCHBOARD__SERVER__PORT=$PORT
    env -u RUST_LOG "$SERVER" 2>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited"; }
        sleep 0.1
    done
    die "the server did not answer within 10 s"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# utime + stime of the server process, in clock ticks (fields 14 and 15; the command
# name in field 2 has no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

api() { # method path [body]
    local args=(-s -o /dev/stdout -w '\n%{http_code}' -X "$1"
        -H "Authorization: Token $TOKEN" -H "Org-Handle: $HANDLE")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "http://127.0.0.1:$PORT/api/v2/platform/telephony/providers-configurations/$2"
}

measure() { # backend endpoint script run -> appends one JSON line
    local backend=$1 endpoint=$2 script=$3 run=$4 before after tag handle=$HANDLE
    [ "$endpoint" = create ] && handle=$CREATE_HANDLE
    tag=$(( ($(date +%s) % 100000) * 10 + run ))
    before=$(cpu_ticks)
    local perf_pid=""
    if [ -n "${CPU_PERF:-}" ] && [ "$run" = 1 ]; then
        # A flat profile of the server during this endpoint's first run.
        # shellcheck disable=SC2086 # CPU_PERF_ARGS is a list of arguments
        perf record -q -F 1999 ${CPU_PERF_ARGS:-} -p "$SERVER_PID" -o "$OUT_DIR/perf.$backend.$endpoint.data" \
            -- sleep "$SECONDS_PER" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    timeout $((SECONDS_PER + 30)) wrk -t1 -c8 -d"${SECONDS_PER}s" --timeout 5s \
        -s "$BENCH_DIR/wrk/$script.lua" "http://127.0.0.1:$PORT" -- \
        "$TOKEN" "$handle" "$ID_MIN" "$ID_MAX" "$tag" >"$WORK/wrk.txt" 2>&1 ||
        { cat "$WORK/wrk.txt" >&2; die "wrk failed ($endpoint)"; }
    after=$(cpu_ticks)
    [ -n "$perf_pid" ] && wait "$perf_pid" 2>/dev/null || true
    python3 - "$WORK/wrk.txt" "$backend" "$endpoint" "$before" "$after" "$CLK_TCK" <<'PY' >>"$WORK/results.jsonl"
import json, sys
path, backend, endpoint, before, after, tck = sys.argv[1:]
line = next(l for l in open(path) if l.startswith("BENCH_JSON "))
w = json.loads(line[len("BENCH_JSON "):])
cpu_us = (int(after) - int(before)) * 1e6 / int(tck)
print(json.dumps({"backend": backend, "endpoint": endpoint, "requests": w["requests"],
                  "non_2xx": w["non_2xx"], "rps": w["rps"], "p99_ms": w["p99_ms"],
                  "cpu_us_per_request": cpu_us / max(1, w["requests"])}))
PY
}

bench_backend() {
    local backend=$1
    log "[$backend] fresh database"
    if [ "$backend" = sqlite ]; then
        DB_URL="sqlite://$WORK/cpu.db"
        rm -f "$WORK/cpu.db"*
    else
        command -v psql >/dev/null || die "psql is required (postgresql-client)"
        psql "$PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        psql "$PG_ADMIN_URL" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
        DB_URL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$PG_DB")
    fi
    export SWITCHBOARD__DATABASE__URL="$DB_URL"
    "$ADMIN" migrate --create >/dev/null 2>&1 || "$ADMIN" migrate >/dev/null
    "$ADMIN" org create --name Bench --handle "$HANDLE" >/dev/null
    printf '%s\n' "$PASSWORD" | "$ADMIN" user create --email "$EMAIL" --password-stdin >/dev/null
    "$ADMIN" member add --org "$HANDLE" --email "$EMAIL" --role owner >/dev/null
    "$ADMIN" org create --name "Bench writes" --handle "$CREATE_HANDLE" >/dev/null
    "$ADMIN" member add --org "$CREATE_HANDLE" --email "$EMAIL" --role owner >/dev/null
    TOKEN=$("$ADMIN" token create --email "$EMAIL" --name bench | tail -n1)
    start_server
    local ids=() i answer
    for i in $(seq 1 50); do
        answer=$(api POST "" "{\"provider\":\"twilio\",\"account_sid\":\"AC$(printf '%08x' "$i")000000000000000000000000\",\"auth_token\":\"0123456789abcdef0123456789abcdef\",\"meta_json\":{\"region\":\"eu\"}}")
        [ "$(tail -n1 <<<"$answer")" = 201 ] || die "seeding failed: $answer"
        ids+=("$(head -n -1 <<<"$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')")
    done
    ID_MIN=${ids[0]}
    ID_MAX=${ids[49]}
    # Warm-up: the first requests fill pools and caches.
    for _ in $(seq 1 20); do api GET "$ID_MIN/" >/dev/null; done
    local run endpoint
    for run in $(seq 1 "$RUNS"); do
        for endpoint in health ${CPU_ENDPOINTS:-get_one list create patch}; do
            [ "$backend" = postgres ] && psql "$DB_URL" -qAtc "VACUUM ANALYZE" >/dev/null
            log "[$backend] run $run: $endpoint"
            measure "$backend" "$endpoint" "$endpoint" "$run"
        done
    done
    stop_server
}

log "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$WORK/results.jsonl"
for backend in "${BACKENDS[@]}"; do
    bench_backend "$backend"
done

python3 - "$WORK/results.jsonl" "$OUT_DIR/cpu.json" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
targets = {"sqlite": {"get_one": 2.5, "list": 8, "create": 6, "patch": 7},
           "postgres": {"get_one": 3.5, "list": 12, "create": 10, "patch": 10}}
out, ok = {}, True
print(f"{'backend':9} {'endpoint':9} {'cpu us/req':>11} {'x health':>9} {'target':>7} {'req/s':>8} {'non-2xx':>8}")
for backend in ["sqlite", "postgres"]:
    mine = [r for r in rows if r["backend"] == backend]
    if not mine:
        continue
    per = {}
    for endpoint in ["health", "get_one", "list", "create", "patch"]:
        runs = [r for r in mine if r["endpoint"] == endpoint]
        if not runs:
            continue
        per[endpoint] = {"cpu_us": statistics.median(r["cpu_us_per_request"] for r in runs),
                         "rps": statistics.median(r["rps"] for r in runs),
                         "non_2xx": sum(r["non_2xx"] for r in runs)}
    health = per["health"]["cpu_us"]
    for endpoint, figures in per.items():
        ratio = figures["cpu_us"] / health
        target = targets[backend].get(endpoint)
        figures["ratio"] = ratio
        figures["target"] = target
        verdict = "" if target is None else ("ok" if ratio <= target else "MISSED")
        if target is not None and ratio > target:
            ok = False
        if figures["non_2xx"]:
            ok = False
            verdict += " (non-2xx answers!)"
        print(f"{backend:9} {endpoint:9} {figures['cpu_us']:11.1f} {ratio:9.2f} "
              f"{'' if target is None else target:>7} {figures['rps']:8.0f} {figures['non_2xx']:8} {verdict}")
    out[backend] = per
json.dump({"results": out, "all_targets_met": ok}, open(sys.argv[2], "w"), indent=2)
print("all targets met" if ok else "some targets missed")
PY
