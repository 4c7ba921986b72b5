#!/usr/bin/env bash
# Tessera browser-login benchmark: full password login + code exchange per second per core,
# code-exchange and refresh-token latency (p50/p99) at peak and at half of peak load, and
# refresh/s with both cores, on SQLite and on PostgreSQL. Load generator:
# examples/login_load.rs (see its header for what each mode does).
#
#   bench/login.sh                        # SQLite and PostgreSQL, 10 s per run, ~4 minutes
#   PG=0 DURATION=5 bench/login.sh        # SQLite only, quicker
#
# Loopback only. Bounded: every load run has a fixed duration (+ warm-up); each step has a
# timeout; the whole script is normally done in well under 10 minutes.
# Per-core runs: server pinned to CPU $SERVER_CPU (taskset, so actix starts ONE worker and
# the argon2 pool has one permit), generator pinned to CPU $LOAD_CPU. PostgreSQL itself is
# never pinned (it is not ours); its CPU time is reported per run. The "both cores" runs
# start the server unpinned (two workers) and leave generator and PostgreSQL unpinned too:
# all three share the two cores.
#
# Environment:
#   DURATION (10) WARMUP (2)             seconds per measured run and unrecorded warm-up
#   LOGIN_CONC (4)                       concurrent browsers for logins (the server's hashing
#                                        queue is 4 per core: more get 503 on one core)
#   EXCHANGE_CONC (8) REFRESH_CONC (8)   workers for the peak exchange / refresh runs
#   BOTH_CONC (16)                       workers for the both-cores refresh runs
#   PG (1)                               0 skips PostgreSQL
#   PG_URL (postgres://postgres:postgres@127.0.0.1:5432)  server to create a fresh database in
#   PORT (18090)  SERVER_CPU (0)  LOAD_CPU (1)
#   CARGO_TARGET_DIR (/work/bench-target)  shared with bench/run.sh
#   WAIT_QUIET (180) QUIET_PCT (15)      wait up to WAIT_QUIET s for the box to be < QUIET_PCT %
#                                        busy before measuring (then measure anyway)
#   BUILD (1)                            0 uses the binaries already in CARGO_TARGET_DIR as they are
#   OUTDIR (bench/results/login-<UTC timestamp>)
# Needs: cargo, taskset, curl, psql (for PG=1).
# Output: $OUTDIR/summary.md (also printed), results.jsonl, per-run logs, server logs.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
LOGIN_CONC=${LOGIN_CONC:-4}
EXCHANGE_CONC=${EXCHANGE_CONC:-8}
REFRESH_CONC=${REFRESH_CONC:-8}
BOTH_CONC=${BOTH_CONC:-16}
PG=${PG:-1}
PG_URL=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
PORT=${PORT:-18090}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/bench-target}
OUTDIR=${OUTDIR:-$ROOT/bench/results/login-$(date -u +%Y%m%dT%H%M%SZ)}
BIN=$CARGO_TARGET_DIR/release/tessera
LOADGEN=$CARGO_TARGET_DIR/release/examples/login_load
BASE="http://127.0.0.1:$PORT"
CLK_TCK=$(getconf CLK_TCK)
RUN_TIMEOUT=$((DURATION + WARMUP + 60))

die() { echo "login-bench: $*" >&2; exit 1; }
log() { echo "login-bench: $*" >&2; }
for tool in cargo taskset curl timeout; do command -v "$tool" >/dev/null || die "$tool missing"; done
[ "$PG" = 0 ] || command -v psql >/dev/null || die "psql missing (or PG=0)"
[ "$(nproc --all)" -ge 2 ] || die "needs at least 2 CPUs"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_free "$PORT" || die "port $PORT is in use; set PORT="

# The colleague's wrk benchmark (bench/run.sh) must not run at the same time: wait (bounded).
for i in $(seq 1 60); do
  pgrep -f 'bench/run.sh|wrk ' >/dev/null || break
  [ "$i" = 60 ] && die "bench/run.sh or wrk still running after 5 minutes; try later"
  [ "$i" = 1 ] && log "waiting for bench/run.sh / wrk to finish"
  sleep 5
done

if [ "${BUILD:-1}" = 1 ]; then
  log "building (cargo build --release --bin tessera --example login_load, target $CARGO_TARGET_DIR)"
  (cd "$ROOT" && cargo build --release --bin tessera --example login_load) >&2
fi
[ -x "$BIN" ] && [ -x "$LOADGEN" ] || die "build did not produce $BIN and $LOADGEN"

mkdir -p "$OUTDIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-login-bench.XXXXXX")
SPID=""
PG_DBS=()
cleanup() {
  if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; fi
  local db
  for db in "${PG_DBS[@]}"; do
    PGPASSWORD=postgres timeout 30 psql -q -h 127.0.0.1 -U postgres -d postgres \
      -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export TESSERA_LOG=warn

# ---------- helpers ----------
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0; }
# CPU time of the PostgreSQL backends serving our database (ticks; the process title names
# the database; shared background processes and other databases' backends are not counted)
PG_DB=""
pg_ticks() {
  local t=0 p
  [ -n "$PG_DB" ] || { echo 0; return; }
  for p in $(pgrep -f "^postgres: .* $PG_DB " 2>/dev/null || true); do t=$((t + $(proc_ticks "$p" || echo 0))); done
  echo "$t"
}
# "busy total" ticks of one CPU, or of all CPUs with argument "all"
cpu_ticks() {
  local c=cpu$1; [ "$1" = all ] && c=cpu
  awk -v c="$c" '$1 == c { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
now_s() { date +%s.%N; }

# start_server NAME DBURL CPUSET(or "") [first]: starts tessera; with "first", parses the
# secrets printed on first start into CLIENT_SECRET and PASSWORD
start_server() {
  local name=$1 dburl=$2 cpus=$3 first=${4:-} i
  local -a cmd=("$BIN" --data-dir "$WORK/data-$name")
  [ -z "$dburl" ] || cmd+=(--database-url "$dburl")
  cmd+=(serve --listen "127.0.0.1:$PORT" --public-url "$BASE")
  [ -z "$cpus" ] || cmd=(taskset -c "$cpus" "${cmd[@]}")
  "${cmd[@]}" >"$OUTDIR/server-$name-${cpus:-all}.log" 2>&1 &
  SPID=$!
  for i in $(seq 1 300); do
    curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && break
    kill -0 "$SPID" 2>/dev/null || { cat "$OUTDIR/server-$name-${cpus:-all}.log" >&2; die "tessera ($name) exited"; }
    [ "$i" = 300 ] && die "tessera ($name) did not become ready in 30 s"
    sleep 0.1
  done
  if [ -n "$first" ]; then
    local f=$OUTDIR/server-$name-${cpus:-all}.log
    CLIENT_SECRET=$(awk '$4 == "demo-app" { print $6 }' "$f")
    PASSWORD=$(awk '$4 == "demo" && $3 == "username" { print $6 }' "$f")
    [ -n "$CLIENT_SECRET" ] && [ -n "$PASSWORD" ] || die "no seeded demo-app secret / demo password in $f"
  fi
  SERVER_THREADS=$(ls "/proc/$SPID/task" | wc -l)
}
stop_server() {
  if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; fi
  SPID=""
}

# load DB SETUP MODE CONC RATE(0 = closed loop) GEN_CPUSET(or ""): one bounded run of the
# generator; appends its rows to ROWS and JSON to results.jsonl, with CPU accounting;
# sets PEAK (first metric's throughput) for the caller.
ROWS=$OUTDIR/rows.md
: >"$ROWS"
load() {
  local db=$1 setup=$2 mode=$3 conc=$4 rate=$5 gcpus=$6
  local tag="$db-$setup-$mode-c$conc-r$rate"
  local -a gen=("$LOADGEN" --base "$BASE" --mode "$mode" --concurrency "$conc" --duration "$DURATION"
    --warmup "$WARMUP" --rate "$rate" --label "$db, $setup")
  [ -z "$gcpus" ] || gen=(taskset -c "$gcpus" "${gen[@]}")
  local t0 t1 s0 s1 p0 p1 a0 a1 rc=0 TIMEFORMAT='%U %S'
  s0=$(proc_ticks "$SPID"); p0=$(pg_ticks); a0=$(cpu_ticks all); t0=$(now_s)
  { time LOAD_CLIENT_SECRET=$CLIENT_SECRET LOAD_PASSWORD=$PASSWORD timeout "$RUN_TIMEOUT" "${gen[@]}" \
      >"$OUTDIR/$tag.out" 2>"$OUTDIR/$tag.err"; } 2>"$OUTDIR/$tag.time" || rc=$?
  t1=$(now_s); s1=$(proc_ticks "$SPID"); p1=$(pg_ticks); a1=$(cpu_ticks all)
  cat "$OUTDIR/$tag.err" >&2
  [ "$rc" = 0 ] || log "WARNING: generator exit $rc for $tag (see $OUTDIR/$tag.err)"
  kill -0 "$SPID" 2>/dev/null || die "server died during $tag"
  # CPU over the whole generator run (set-up logins and warm-up included, so a slight
  # under-estimate of the steady state): server, PostgreSQL, generator, and everything else
  # (other processes such as a concurrent cargo build, plus interrupt/softirq time; loopback
  # TCP alone puts a few % there), all as % of one core (the box has 200 %).
  local cpu
  cpu=$(awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v p0="$p0" -v p1="$p1" -v hz="$CLK_TCK" \
      -v a0="$a0" -v a1="$a1" -v ncpu="$(nproc --all)" -v g="$(tail -1 "$OUTDIR/$tag.time")" 'BEGIN {
      w = t1 - t0; split(a0, x, " "); split(a1, y, " "); split(g, q, " ")
      srv = (s1 - s0) / hz / w * 100; pg = (p1 - p0) / hz / w * 100; gen = (q[1] + q[2]) / w * 100
      all = (y[2] - x[2]) > 0 ? (y[1] - x[1]) / (y[2] - x[2]) * 100 * ncpu : 0
      other = all - srv - pg - gen; if (other < 0) other = 0
      printf "%.0f | %.0f | %.0f | %.0f", srv, pg, gen, other }')
  # generator rows + CPU columns
  grep '^| ' "$OUTDIR/$tag.out" | sed "s/ |\$/ | $cpu |/" | tee -a "$ROWS" >&2
  grep '^{' "$OUTDIR/$tag.out" >>"$OUTDIR/results.jsonl" || true
  PEAK=$(grep '^{' "$OUTDIR/$tag.out" | head -1 | sed 's/.*"per_s":\([0-9.]*\).*/\1/')
  PEAK=${PEAK:-0}
}
half() { awk -v p="$1" 'BEGIN { h = p / 2; if (h < 1) h = 1; printf "%.0f", h }'; }

# Other work on the box (someone's cargo build or test suite) steals CPU from the
# measurement: wait up to WAIT_QUIET seconds until both CPUs together are less than
# QUIET_PCT % busy over 3 s, then go on regardless (the summary records the load average
# and, per run, the CPU used by everything else).
busy_pct() {
  local a b
  a=$(cpu_ticks all); sleep 3; b=$(cpu_ticks all)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    p = (y[2] - x[2]) > 0 ? (y[1] - x[1]) / (y[2] - x[2]) * 100 : 0; printf "%.0f", p }'
}
QUIET_WAITED=0
while :; do
  BUSY=$(busy_pct)
  [ "$BUSY" -lt "${QUIET_PCT:-15}" ] && break
  [ "$QUIET_WAITED" -ge "${WAIT_QUIET:-180}" ] && { log "box still ${BUSY} % busy; measuring anyway"; break; }
  [ "$QUIET_WAITED" = 0 ] && log "box ${BUSY} % busy (other builds/tests?); waiting up to ${WAIT_QUIET:-180} s"
  QUIET_WAITED=$((QUIET_WAITED + 3))
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_BEFORE=$(ps -eo pcpu=,comm= --sort=-pcpu | head -5 | awk '{ printf "%s%s %s%%", (NR > 1 ? ", " : ""), $2, $1 }')
log "output in $OUTDIR; load average $LOAD_BEFORE"

declare -A PEAKS
# bench_db NAME DBURL: the per-core runs (pinned), then the both-cores refresh run
bench_db() {
  local db=$1 url=$2 one="1 core"
  start_server "$db" "$url" "$SERVER_CPU" first
  log "$db: tessera pid $SPID pinned to CPU $SERVER_CPU ($SERVER_THREADS threads)"
  load "$db" "$one" login "$LOGIN_CONC" 0 "$LOAD_CPU"; PEAKS[$db-login]=$PEAK
  load "$db" "$one" exchange "$EXCHANGE_CONC" 0 "$LOAD_CPU"; PEAKS[$db-exchange]=$PEAK
  load "$db" "$one" refresh "$REFRESH_CONC" 0 "$LOAD_CPU"; PEAKS[$db-refresh]=$PEAK
  load "$db" "$one, half peak" login "$LOGIN_CONC" "$(half "${PEAKS[$db-login]}")" "$LOAD_CPU"
  load "$db" "$one, half peak" exchange "$EXCHANGE_CONC" "$(half "${PEAKS[$db-exchange]}")" "$LOAD_CPU"
  load "$db" "$one, half peak" refresh "$REFRESH_CONC" "$(half "${PEAKS[$db-refresh]}")" "$LOAD_CPU"
  stop_server
  start_server "$db" "$url" ""
  log "$db: tessera pid $SPID unpinned ($SERVER_THREADS threads)"
  load "$db" "2 cores shared" refresh "$BOTH_CONC" 0 ""; PEAKS[$db-refresh2]=$PEAK
  load "$db" "2 cores shared" login "$((LOGIN_CONC * 2))" 0 ""; PEAKS[$db-login2]=$PEAK
  stop_server
}

bench_db sqlite ""
if [ "$PG" = 1 ]; then
  DB=tessera_login_bench_$(date +%s)_$$
  PGPASSWORD=postgres timeout 30 psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $DB" \
    || die "could not create database $DB"
  PG_DBS+=("$DB")
  PG_DB=$DB
  PG_VERSION=$(PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -Atc 'SHOW server_version' 2>/dev/null || echo '?')
  bench_db postgres "$PG_URL/$DB"
fi

# ---------- summary ----------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT (working tree modified)"; fi
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "ge") ? (v + 0 >= t) : (v + 0 < t); print (ok ? "met" : "MISSED") }'; }
# metric value from results.jsonl: label mode metric field
jget() {
  grep -F "\"label\":\"$1\"" "$OUTDIR/results.jsonl" | grep -F "\"mode\":\"$2\"" | grep -F "\"metric\":\"$3\"" \
    | head -1 | sed "s/.*\"$4\":\([0-9.]*\).*/\1/"
}
{
  echo "# Tessera login benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- commit $COMMIT, binary $BIN (built $(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ))"
  echo "- machine: $(nproc --all) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -m | awk '/^Mem:/ { print $2 }') MiB RAM, $(uname -sr)"
  echo "- PostgreSQL: ${PG_VERSION:-not run}; SQLite: bundled (sqlx), WAL"
  echo "- waited ${QUIET_WAITED} s for a quiet box (${BUSY} % busy over 3 s at start); load average before $LOAD_BEFORE, after $LOAD_AFTER; busiest processes at start: $TOP_BEFORE"
  echo "- $DURATION s per run after $WARMUP s warm-up; '1 core': server taskset -c $SERVER_CPU, generator taskset -c $LOAD_CPU; '2 cores shared': nothing pinned"
  echo
  echo "| label | mode | metric | conc | target/s | n | per s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU % | PostgreSQL CPU % | generator CPU % | everything else CPU % |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$ROWS"
  echo
  echo "Targets:"
  echo
  for db in sqlite postgres; do
    [ "$db" = postgres ] && [ "$PG" != 1 ] && continue
    l=${PEAKS[$db-login]}
    echo "- $db: password logins/s per core >= 40: $l -> $(verdict "$l" 40 ge)"
    for m in exchange refresh; do
      p99=$(jget "$db, 1 core, half peak" "$m" "$m" p99_ms)
      echo "- $db: $m p99 at half of peak (${PEAKS[$db-$m]}/s peak) < 50 ms: ${p99:-?} ms -> $(verdict "${p99:-999}" 50 lt)"
    done
  done
  if [ "$PG" = 1 ]; then
    r=${PEAKS[postgres-refresh2]}
    echo "- postgres: refresh/s with both cores >= 500: $r -> $(verdict "$r" 500 ge)"
  fi
  echo
  echo "Raw generator output and server logs: $OUTDIR"
} | tee "$OUTDIR/summary.md"
