#!/usr/bin/env bash
# Load benchmark: the service against its database's own limit, on SQLite and on
# PostgreSQL, in one run (see docs/performance.md).
#
# For each backend it builds nothing new (the release binaries are built once at the
# start), prepares a fresh database (a new SQLite file; a new PostgreSQL database
# `sb_bench`, dropped at the end), seeds one organization with 20 configurations,
# then:
#   1. counts the SQL statements one request of each endpoint executes, from the
#      server's statement trace (RUST_LOG=...,switchboard::sql=debug), and checks
#      that they are exactly the statements of scripts/bench/sql/<backend>/*.sql;
#   2. measures the database limit of those statements: pgbench with 8 clients on
#      PostgreSQL, the `sqlite-limit` binary on one connection on SQLite;
#   3. measures the server with wrk (-t2 -c32 -d10s, three runs, medians):
#      /health/live, GET one, GET list, POST create, PATCH rotate; then GET one
#      again during a flood of logins (8 connections); peak RSS from /proc.
# It prints a table and writes target/bench/load.json.
#
# Usage: scripts/bench/load.sh [sqlite] [postgres]      (default: both)
# Environment: BENCH_DURATION (s, 10), BENCH_RUNS (3), BENCH_LIMIT_SECONDS (5),
#   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres: a role that may
#   create databases), BENCH_SKIP_BUILD=1, BENCH_TIMEOUT (s, 900: the whole run).
# Loopback only; installs wrk (Debian package) when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR="$ROOT/scripts/bench"
OUT_DIR="$ROOT/target/bench"
DURATION=${BENCH_DURATION:-10}
RUNS=${BENCH_RUNS:-3}
LIMIT_SECONDS=${BENCH_LIMIT_SECONDS:-5}
PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=sb_bench
TIMEOUT=${BENCH_TIMEOUT:-900}
BACKENDS=("$@")
[ ${#BACKENDS[@]} -eq 0 ] && BACKENDS=(sqlite postgres)

# The whole run is bounded: re-run this script under `timeout` once.
if [ -z "${BENCH_BOUNDED:-}" ]; then
    export BENCH_BOUNDED=1
    exec timeout --signal=TERM --kill-after=10 "$TIMEOUT" "$0" "$@"
fi

BENCH_NAME=load.sh
# shellcheck source=scripts/bench/lib.sh
. "$BENCH_DIR/lib.sh"

# --- tools -------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    log "installing wrk (Debian package)"
    as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    as_root apt-get install -y -qq wrk >/dev/null 2>&1 ||
        { as_root apt-get update -qq && as_root apt-get install -y -qq wrk >/dev/null; }
fi
for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
for backend in "${BACKENDS[@]}"; do
    case "$backend" in
        sqlite) ;;
        postgres)
            command -v pgbench >/dev/null || die "pgbench is required (postgresql-client)"
            command -v psql >/dev/null || die "psql is required (postgresql-client)"
            ;;
        *) die "unknown backend $backend (sqlite or postgres)" ;;
    esac
done

RELEASE="$ROOT/target/release"
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    log "building the release binaries"
    (cd "$ROOT" && cargo build --release -q -p switchboard-server -p switchboard-admin -p switchboard-bench)
fi
SERVER="$RELEASE/switchboard"
ADMIN="$RELEASE/switchboard-admin"
SQLITE_LIMIT="$RELEASE/sqlite-limit"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-bench.XXXXXX")
RAW="$WORK/raw"
mkdir -p "$RAW" "$OUT_DIR"
SERVER_PID=""
FLOOD_PID=""

cleanup() {
    [ -n "$FLOOD_PID" ] && kill "$FLOOD_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    if [[ " ${BACKENDS[*]} " == *" postgres "* ]]; then
        psql "$PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# Fixed bench data.
EMAIL=bench@bench.test
PASSWORD='bench password, long enough'
HANDLE=bench
bench_server_env
export BENCH_LUA_DIR="$BENCH_DIR/wrk"

start_server() { # $1 = log file, $2 = RUST_LOG or ""
    PORT=$(free_port)
    export SWITCHBOARD__SERVER__PORT=$PORT
    if [ -n "$2" ]; then
        RUST_LOG="$2" "$SERVER" 2>"$1" &
    else
        env -u RUST_LOG "$SERVER" 2>"$1" &
    fi
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -fs "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$1" >&2; die "the server exited"; }
        sleep 0.1
    done
    die "the server did not answer within 10 s"
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

api() { # method path [body]
    local args=(-s -o /dev/stdout -w '\n%{http_code}' -X "$1"
        -H "Authorization: Token $TOKEN" -H "Org-Handle: $HANDLE")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "http://127.0.0.1:$PORT/api/v2/platform/telephony/providers-configurations/$2"
}

run_wrk() { # script connections threads seconds out [args...]
    local script=$1 connections=$2 threads=$3 seconds=$4 out=$5
    shift 5
    timeout $((seconds + 30)) wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 5s \
        -s "$BENCH_DIR/wrk/$script.lua" "http://127.0.0.1:$PORT" -- "$@" >"$out.txt" 2>&1 ||
        { cat "$out.txt" >&2; die "wrk failed ($script)"; }
    grep '^BENCH_JSON ' "$out.txt" | sed 's/^BENCH_JSON //' >>"$out"
}

# Variables every limit script may use (-D name=value for pgbench and sqlite-limit).
# Values are those the server binds, or valid stand-ins of the same size: the sealed
# auth token (format 2, 82 bytes), the JSON of the audit changes and of the change
# event's body as the server writes them. No value may look like a number unless the
# server binds a number there (sqlite-limit binds what parses as an integer as one).
EVENT_BODY='{"data":{"account_sid":"AC00000001000000000000000000000000","active":true,"auth_token_last4":"cdef","base_url":null,"created_at":"2026-01-01T00:00:00.000000Z","credential_version":2,"credentials":{"account_sid":"AC00000001000000000000000000000000","auth_token":{"last4":"cdef","set":true}},"id":1,"meta_json":{"region":"eu"},"name":"Twilio bench","org_handle":"bench","provider":"twilio","sip_url":null,"updated_at":"2026-01-01T00:00:00.000000Z","verification":null,"version":2},"id":"evt_3276eae6d0e3496b9d693174799e6530","organization":"bench","timestamp":"2026-01-01T00:00:00.000000Z","type":"provider_configuration.updated"}'
limit_variables() {
    printf '%s\n' \
        "handle=$HANDLE" "token_hash=$TOKEN_HASH" "one=1" "zero=0" "page_size=50" \
        "org_id=$ORG_ID" "id_min=$ID_MIN" "id_max=$ID_MAX" "provider_id=$PROVIDER_ID" \
        "name=Twilio bench" "key_id=1" "last4=cdef" "active=true" "enabled=true" "meta={}" "version=1" \
        "now=2026-01-01 00:00:00" "verification_status=valid" \
        "version_min=-9223372036854775808" "version_max=9223372036854775807" \
        "audit_config_id=$ID_MIN" "user_id=$USER_ID" "token_id=$TOKEN_ID" \
        "request_id=0b7e4f6c-3c1d-4f5e-9a2b-8d6c5e4f3a21" \
        "action_created=created" "action_rotated=rotated" \
        "changes_created={\"auth_token_last4\":{\"new\":\"cdef\",\"old\":null},\"fields\":[\"provider\",\"name\",\"account_sid\",\"auth_token\",\"active\"]}" \
        "changes_rotated={\"auth_token_last4\":{\"new\":\"cdef\",\"old\":\"abcd\"},\"fields\":[\"auth_token\"]}" \
        "public_fields={\"account_sid\":\"AC0123456789abcdef0123456789abcdef\"}" \
        "secret_last4={\"auth_token\":\"cdef\"}" \
        "event_created=provider_configuration.created" "event_updated=provider_configuration.updated" \
        "event_body=$EVENT_BODY" \
        "rotation_cancelled=cancelled" "rotation_pending=pending" "stage_previous=previous" \
        "ciphertext=\\x0300000001529788d0719328eaf29dffedbc4da6d59113db4bb19064d8d669cb3290fad357264a1459208f85e03a517b7d1670eca4fd8bc11fa49921ce7f3f3777d69ab245d321b2d470670b6056c95e3253"
}

run_limit() { # backend endpoint out: one run, appended to out
    local backend=$1 endpoint=$2 out=$3 args=()
    while IFS= read -r variable; do args+=(-D "$variable"); done < <(limit_variables)
    if [ "$backend" = postgres ]; then
        timeout $((LIMIT_SECONDS + 30)) pgbench -n -M prepared -c 8 -j 2 -T "$LIMIT_SECONDS" \
            -f "$BENCH_DIR/sql/postgres/$endpoint.sql" "${args[@]}" "$DB_URL" \
            >"$out.txt" 2>&1 || { cat "$out.txt" >&2; die "pgbench failed ($endpoint)"; }
        python3 - "$out.txt" >>"$out" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", text)
failed = re.search(r"number of failed transactions: (\d+)", text)
latency = re.search(r"latency average = ([0-9.]+) ms", text)
if not tps:
    sys.exit("no tps in pgbench output:\n" + text)
print(json.dumps({"tps": float(tps.group(1)),
                  "failed": int(failed.group(1)) if failed else 0,
                  "latency_avg_ms": float(latency.group(1)) if latency else None}))
EOF
    else
        timeout $((LIMIT_SECONDS + 30)) "$SQLITE_LIMIT" --db "$DB_FILE" \
            --script "$BENCH_DIR/sql/sqlite/$endpoint.sql" --seconds "$LIMIT_SECONDS" \
            "${args[@]}" >>"$out" || die "sqlite-limit failed ($endpoint)"
    fi
}

# Counts the statements of $2 sequential requests of one kind (function $1), after
# one warm-up request, from the statement trace in $LOG; writes $3. r2d2's pool checks
# (SELECT 1) and Diesel's savepoints (SQLite group commit: SAVEPOINT / RELEASE
# SAVEPOINT / ROLLBACK TO SAVEPOINT diesel_savepoint_N around each write inside the
# shared BEGIN IMMEDIATE ... COMMIT) are counted apart; `first_request` keeps the
# trace as it is, savepoints included (report.py leaves them out of its comparison).
count_statements() { # request-function n out
    local request=$1 n=$2 out=$3 before after status
    "$request" >/dev/null
    sleep 0.2
    before=$(wc -l <"$LOG")
    for _ in $(seq 1 "$n"); do
        status=$("$request" | tail -n1)
        case "$status" in 2??) ;; *) die "$request answered $status while counting" ;; esac
    done
    sleep 0.2
    after=$(wc -l <"$LOG")
    sed -n "$((before + 1)),${after}p" "$LOG" >"$out.log"
    python3 - "$out.log" "$n" >"$out" <<'EOF'
import json, re, sys
SAVEPOINT = re.compile(r"(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) diesel_savepoint_[0-9]+")
statements = []
for line in open(sys.argv[1]):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("target") == "switchboard::sql":
        statements.append(event.get("fields", {}).get("sql", ""))
n = int(sys.argv[2])
checks = [s for s in statements if s.strip() == "SELECT 1"]
work = [s for s in statements if s.strip() != "SELECT 1"]
savepoints = [s for s in work if SAVEPOINT.fullmatch(s.strip())]
print(json.dumps({"requests": n, "statements": (len(work) - len(savepoints)) / n,
                  "pool_checks": len(checks) / n, "savepoints": len(savepoints) / n,
                  "first_request": work[: max(1, len(work) // n)]}))
EOF
}

req_get() { api GET "$ID_MIN/"; }
req_list() { api GET ""; }
# Requests run in subshells: unique values come from the clock, not a counter.
req_create() {
    api POST "" "{\"provider\":\"twilio\",\"account_sid\":\"AC$(printf '%032x' "$(date +%s%N)")\",\"auth_token\":\"0123456789abcdef0123456789abcdef\"}"
}
req_patch() { api PATCH "$ID_MIN/" "{\"auth_token\":\"$(printf '%032x' "$RANDOM$RANDOM")\"}"; }

# PostgreSQL: what autovacuum does in production, done between phases, so that each
# endpoint meets tables as a running autovacuum would keep them. (Test machines often
# run PostgreSQL with autovacuum off: then 40,000 rotations of the 20 seeded rows
# leave chains of dead row versions that every later read walks, and the
# measurements after the PATCH runs would be of the bloat, not of the service.)
# SQLite updates rows in place; nothing to do.
vacuum() { # backend
    [ "$1" = postgres ] || return 0
    psql "$DB_URL" -qAtc "VACUUM ANALYZE" >/dev/null
}

rss_kib() { awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status"; }

bench_backend() {
    local backend=$1 dir="$RAW/$1"
    mkdir -p "$dir"
    log "[$backend] preparing a fresh database"
    if [ "$backend" = sqlite ]; then
        DB_FILE="$WORK/bench.db"
        rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm"
        DB_URL="sqlite://$DB_FILE"
    else
        psql "$PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        psql "$PG_ADMIN_URL" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
        DB_URL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$PG_DB")
    fi
    export SWITCHBOARD__DATABASE__URL="$DB_URL"
    "$ADMIN" migrate >/dev/null
    "$ADMIN" org create --name Bench --handle "$HANDLE" >/dev/null
    printf '%s\n' "$PASSWORD" | "$ADMIN" user create --email "$EMAIL" --password-stdin >/dev/null
    "$ADMIN" member add --org "$HANDLE" --email "$EMAIL" --role owner >/dev/null
    TOKEN=$("$ADMIN" token create --email "$EMAIL" --name bench | tail -n1)

    # Statement counts, on a server with the statement trace on, and without the
    # background work that would interleave its statements with the requests' (the
    # webhook delivery worker polls every 250 ms, the rotation sweeper every 30 s);
    # the measured server below runs both, as in production.
    LOG="$dir/trace.log"
    SWITCHBOARD__WEBHOOKS__WORKER=false SWITCHBOARD__ROTATION__SWEEPER=false \
        start_server "$LOG" "warn,switchboard::sql=debug"
    log "[$backend] seeding 20 configurations"
    local ids=() i answer
    for i in $(seq 1 20); do
        answer=$(api POST "" "{\"provider\":\"twilio\",\"account_sid\":\"AC$(printf '%08x' "$i")000000000000000000000000\",\"auth_token\":\"0123456789abcdef0123456789abcdef\",\"meta_json\":{\"region\":\"eu\"}}")
        [ "$(tail -n1 <<<"$answer")" = 201 ] || die "seeding failed: $answer"
        ids+=("$(head -n -1 <<<"$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')")
    done
    ID_MIN=${ids[0]}
    ID_MAX=${ids[19]}
    [ $((ID_MAX - ID_MIN)) -eq 19 ] || die "seeded ids are not contiguous: ${ids[*]}"
    log "[$backend] counting statements per request"
    local idle_before
    idle_before=$(wc -l <"$LOG")
    sleep 1
    if [ "$(sed -n "$((idle_before + 1)),\$p" "$LOG" | grep -c '"target":"switchboard::sql"')" != 0 ]; then
        log "[$backend] WARNING: the idle server ran SQL statements; the counts below include them"
    fi
    count_statements req_get 10 "$dir/count.get_one.json"
    count_statements req_list 10 "$dir/count.list.json"
    count_statements req_patch 10 "$dir/count.patch.json"
    count_statements req_create 10 "$dir/count.create.json"
    # Back to exactly 20 configurations for the list measurements.
    answer=$(api GET "?page_size=100")
    for i in $(head -n -1 <<<"$answer" | python3 -c "import json,sys; print(' '.join(str(c['id']) for c in json.load(sys.stdin)['data'] if c['id'] > $ID_MAX))"); do
        [ "$(api DELETE "$i/" | tail -n1)" = 204 ] || die "could not delete configuration $i"
    done
    stop_server

    # Values the limit scripts bind, read from the database itself.
    if [ "$backend" = sqlite ]; then
        read -r TOKEN_HASH ORG_ID PROVIDER_ID TOKEN_ID USER_ID < <(python3 - "$DB_FILE" "$HANDLE" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
token, token_id, user_id = db.execute("SELECT token_hash, id, user_id FROM api_tokens ORDER BY id DESC LIMIT 1").fetchone()
org = db.execute("SELECT id FROM organizations WHERE domain_handle = ?", (sys.argv[2],)).fetchone()[0]
provider = db.execute("SELECT id FROM telephony_providers WHERE slug = 'twilio'").fetchone()[0]
print(token, org, provider, token_id, user_id)
EOF
        )
    else
        IFS='|' read -r TOKEN_HASH TOKEN_ID USER_ID < <(psql "$DB_URL" -qAtc "SELECT token_hash, id, user_id FROM api_tokens ORDER BY id DESC LIMIT 1")
        ORG_ID=$(psql "$DB_URL" -qAtc "SELECT id FROM organizations WHERE domain_handle = '$HANDLE'")
        PROVIDER_ID=$(psql "$DB_URL" -qAtc "SELECT id FROM telephony_providers WHERE slug = 'twilio'")
    fi

    # The server, without the trace. Each endpoint's database-limit runs alternate
    # with its wrk runs, so that a change in the machine's load touches both alike.
    # Order matters: the list is measured on the 20 seeded rows, before any create.
    LOG="$dir/server.log"
    start_server "$LOG" ""
    local tag run
    log "[$backend] wrk: health ($RUNS x ${DURATION}s)"
    for run in $(seq 1 "$RUNS"); do
        run_wrk health 32 2 "$DURATION" "$dir/wrk.health.jsonl" - - 0 0 0
    done
    for endpoint in get_one list create patch; do
        vacuum "$backend"
        log "[$backend] $endpoint: $RUNS x (database limit ${LIMIT_SECONDS}s, wrk ${DURATION}s)"
        for run in $(seq 1 "$RUNS"); do
            # Let the server finish what wrk left in flight: on SQLite a write of its
            # own would make the limit's transaction fail as busy.
            sleep 1
            run_limit "$backend" "$endpoint" "$dir/limit.$endpoint.jsonl"
            tag=$(( ($(date +%s) % 100000) * 10 + run ))
            run_wrk "$endpoint" 32 2 "$DURATION" "$dir/wrk.$endpoint.jsonl" \
                "$TOKEN" "$HANDLE" "$ID_MIN" "$ID_MAX" "$tag"
        done
    done
    rss_kib >"$dir/rss_kib"
    vacuum "$backend"
    log "[$backend] wrk: get_one during a login flood (8 connections)"
    timeout $((DURATION + 40)) wrk -t1 -c8 -d"$((DURATION + 4))s" --timeout 10s \
        -s "$BENCH_DIR/wrk/login.lua" "http://127.0.0.1:$PORT" -- "$EMAIL" "$PASSWORD" \
        >"$dir/flood.login.txt" 2>&1 &
    FLOOD_PID=$!
    sleep 2
    run_wrk get_one 32 2 "$DURATION" "$dir/wrk.get_one_flood.jsonl" \
        "$TOKEN" "$HANDLE" "$ID_MIN" "$ID_MAX" 0
    wait "$FLOOD_PID" || true
    FLOOD_PID=""
    grep '^BENCH_JSON ' "$dir/flood.login.txt" | sed 's/^BENCH_JSON //' >"$dir/wrk.login_flood.jsonl" || true
    rss_kib >"$dir/rss_flood_kib"
    stop_server

    if [ "$backend" = postgres ]; then
        psql "$PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    fi
}

log "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
STARTED=$(date +%s)
for backend in "${BACKENDS[@]}"; do
    bench_backend "$backend"
done
python3 "$BENCH_DIR/report.py" "$RAW" "$BENCH_DIR/sql" "$OUT_DIR/load.json" \
    --duration "$DURATION" --runs "$RUNS" --limit-seconds "$LIMIT_SECONDS" \
    --elapsed "$(( $(date +%s) - STARTED ))" --load-average "$(cut -d' ' -f1-3 /proc/loadavg)"
