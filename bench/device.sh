#!/usr/bin/env bash
# Device grant polling benchmark (issue 17, acceptance 6): 1,000 pending devices polling the
# token endpoint at the advertised interval cost no database write per poll, and the token
# endpoint's p99 (client_credentials under wrk) stays within 10 % of its value without them.
#
#   bench/device.sh                                   # release build, then about 4 minutes
#   BUILD=0 ROUNDS=1 DURATION=10 bench/device.sh       # quicker
#   DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/device_bench bench/device.sh
#
# A poll is `POST …/token` with `grant_type=urn:ietf:params:oauth:grant-type:device_code`,
# the device code and client_secret_basic: the server reads the request row (one indexed
# SELECT) the first time and answers authorization_pending; then, until a decision is heard
# of or 30 s pass, from memory (crates/oidc/src/approvals/poll_clock.rs), where when the
# device last polled is kept too, so a poll writes nothing.
#
# Server pinned to CPU $SERVER_CPU (one actix worker), SQLite in a temp dir unless
# DATABASE_URL is set; realm `bench` (device codes live 3600 s, poll interval INTERVAL) with
# clients `svc` (client_credentials) and `tv` (the device grant, confidential: a public
# client's device requests are rate-limited per address). wrk (1 thread) and the pollers
# (examples/device_pollers.rs) share CPU $WRK_CPU. Runs alternate to bracket noise, ROUNDS
# times:
#   A  wrk client_credentials, CONNS connections, DURATION s, no pollers;
#   B  device_pollers (its idle baseline of IDLE s, then DEVICES fresh device requests,
#      then polling at the interval, staggered evenly) and, LEAD s into its polling window,
#      the same wrk run.
# The statement count is the server's `tessera_db_statement_duration_seconds_count` on its
# metrics listener, read around every wrk run and around the pollers' window (statements
# per poll, raw and net of the idle rate). Then 10 s of polling alone (P) give the server's CPU
# time per poll (its utime+stime). With SQLite and WRITE_CHECK=1 a last pollers-only
# run is traced (strace -y) for WRITE_SECS s: every write or sync the server makes to a file
# of its data directory is counted.
#
# Environment: DURATION (20) CONNS (8) DEVICES (1000) INTERVAL (5) ROUNDS (2) IDLE (10)
#   LEAD (5) SLACK_MS (0: polls exactly `interval` apart) WRITE_CHECK (1) WRITE_SECS (8)
#   PORT (18098) METRICS_PORT (18099) SERVER_CPU (0) WRK_CPU (1)
#   TOKEN_DELAY_MS (0: saturate; n: each wrk connection pauses n ms before a request, a
#     paced load below saturation, e.g. 5 with CONNS 8 for about 70 % of the core here)
#   CARGO_TARGET_DIR (/work/bench-target) BUILD (1) TESSERA_BIN POLLERS_BIN
#   DATABASE_URL (SQLite in a temp dir) OUTDIR (bench/results/device-<UTC>)
# Needs: wrk, taskset, curl, jq, timeout; strace for WRITE_CHECK.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-20}
CONNS=${CONNS:-8}
DEVICES=${DEVICES:-1000}
INTERVAL=${INTERVAL:-5}
ROUNDS=${ROUNDS:-2}
IDLE=${IDLE:-10}
LEAD=${LEAD:-5}
SLACK_MS=${SLACK_MS:-0}
WRITE_CHECK=${WRITE_CHECK:-1}
WRITE_SECS=${WRITE_SECS:-8}
PORT=${PORT:-18098}
METRICS_PORT=${METRICS_PORT:-18099}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
export TOKEN_DELAY_MS=${TOKEN_DELAY_MS:-0}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/bench-target}
BIN=${TESSERA_BIN:-$CARGO_TARGET_DIR/release/tessera}
POLLERS=${POLLERS_BIN:-$CARGO_TARGET_DIR/release/examples/device_pollers}
OUTDIR=${OUTDIR:-$ROOT/bench/results/device-$(date -u +%Y%m%dT%H%M%SZ)}
BASE="http://127.0.0.1:$PORT"
METRICS="http://127.0.0.1:$METRICS_PORT/metrics"
DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code
CLK_TCK=$(getconf CLK_TCK)

die() { echo "device-bench: $*" >&2; exit 1; }
log() { echo "device-bench: $*" >&2; }
for tool in wrk taskset curl jq timeout; do command -v "$tool" >/dev/null || die "$tool missing"; done
if [ "$WRITE_CHECK" = 1 ] && ! command -v strace >/dev/null; then
  log "strace missing: WRITE_CHECK=0"; WRITE_CHECK=0
fi
[ -z "${DATABASE_URL:-}" ] || WRITE_CHECK=0   # the trace counts SQLite files only

if [ "${BUILD:-1}" = 1 ]; then
  log "building (release, target $CARGO_TARGET_DIR)"
  (cd "$ROOT" && cargo build --release --bin tessera --example device_pollers) >&2
fi
[ -x "$BIN" ] || die "no $BIN"
[ -x "$POLLERS" ] || die "no $POLLERS"

mkdir -p "$OUTDIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-device-bench.XXXXXX")
SPID=""
PPID_POLLERS=""
cleanup() {
  [ -z "$PPID_POLLERS" ] || kill "$PPID_POLLERS" 2>/dev/null || true
  [ -z "$SPID" ] || { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export TESSERA_LOG=warn

# wrk latency ("812.00us", "1.23ms", "1.01s") -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); x = v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); x = v + 0 }
    else if (v ~ /m$/) { sub(/m$/, "", v); x = v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); x = v * 1000 }
    else { x = -1 }
    printf "%.3f", x }'
}
# utime + stime of a process, in clock ticks (fields after the parenthesised comm)
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# "busy total" ticks of one CPU from /proc/stat
cpu_ticks() {
  awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8; tot = 0
    for (i = 2; i <= 9; i++) tot += $i; print busy, tot }' /proc/stat
}
now_s() { date +%s.%N; }
statements() { curl -fsS "$METRICS" | awk '$1 == "tessera_db_statement_duration_seconds_count" { print $2 }'; }

DB_ARGS=()
[ -z "${DATABASE_URL:-}" ] || DB_ARGS=(--database-url "$DATABASE_URL")
taskset -c "$SERVER_CPU" "$BIN" --data-dir "$WORK/data" "${DB_ARGS[@]}" serve \
  --listen "127.0.0.1:$PORT" --public-url "$BASE" --metrics-listen "127.0.0.1:$METRICS_PORT" \
  >"$OUTDIR/server.log" 2>&1 &
SPID=$!
for i in $(seq 1 300); do
  curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && break
  kill -0 "$SPID" 2>/dev/null || { cat "$OUTDIR/server.log" >&2; die "tessera exited"; }
  [ "$i" = 300 ] && die "tessera not ready in 30 s"
  sleep 0.1
done
[ -n "$(statements)" ] || die "no statement count at $METRICS"

seeded() { awk -v n="$1" '$4 == n { print $6 }' "$OUTDIR/server.log"; }
ADMIN=$(curl -fsS -u "tessera-admin:$(seeded tessera-admin)" -d grant_type=client_credentials \
  "$BASE/realms/master/protocol/openid-connect/token" | jq -r .access_token)
api() { curl -fsS -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' "$@"; }
api -d "{\"name\":\"bench\",\"device_code_lifetime_secs\":3600,\"device_poll_interval_secs\":$INTERVAL}" \
  "$BASE/admin/realms" >/dev/null
SVC_SECRET=$(api -d '{"client_id":"svc","name":"bench service","grant_types":["client_credentials"]}' \
  "$BASE/admin/realms/bench/clients" | jq -r .secret)
TV_SECRET=$(api -d "{\"client_id\":\"tv\",\"name\":\"bench TV\",\"grant_types\":[\"$DEVICE_GRANT\"],\"scopes\":[\"openid\"]}" \
  "$BASE/admin/realms/bench/clients" | jq -r .secret)
[ -n "$SVC_SECRET" ] && [ "$SVC_SECRET" != null ] && [ -n "$TV_SECRET" ] && [ "$TV_SECRET" != null ] \
  || die "client creation returned no secret"
uri() { jq -rn --arg s "$1" '$s | @uri'; }
BASIC_AUTH=$(printf '%s:%s' svc "$(uri "$SVC_SECRET")" | base64 -w0)
export BASIC_AUTH
TOKEN_URL="$BASE/realms/bench/protocol/openid-connect/token"

# One of each by hand: a token, and a device request answered authorization_pending.
curl -fsS -u "svc:$SVC_SECRET" -d grant_type=client_credentials "$TOKEN_URL" | jq -e .access_token >/dev/null \
  || die "client_credentials failed"
D=$(curl -fsS -u "tv:$TV_SECRET" -d scope=openid "$BASE/realms/bench/protocol/openid-connect/auth/device")
[ "$(jq -r .interval <<<"$D")" = "$INTERVAL" ] && [ "$(jq -r .expires_in <<<"$D")" = 3600 ] \
  || die "unexpected device authorization answer: $D"
P=$(curl -sS -u "tv:$TV_SECRET" --data-urlencode "grant_type=$DEVICE_GRANT" \
  --data-urlencode "device_code=$(jq -r .device_code <<<"$D")" "$TOKEN_URL")
[ "$(jq -r .error <<<"$P")" = authorization_pending ] || die "unexpected poll answer: $P"

log "warm-up (3 s)"
taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d3s -s "$ROOT/bench/token.lua" "$TOKEN_URL" >/dev/null

TSV=$OUTDIR/results.tsv
printf 'run\tpollers\treq_s\tp50_ms\tp99_ms\tnon2xx\tserver_cpu_pct\tother_server_core_pct\twrk_core_busy_pct\tstatements\tstatements_per_request\n' >"$TSV"

# wrk_run TAG POLLERS: one bounded wrk run of client_credentials; appends a TSV row.
wrk_run() {
  local tag=$1 pollers=$2 raw="$OUTDIR/wrk-$1.txt"
  local s0 s1 t0 t1 pt0 pt1 c0 c1 w0 w1
  s0=$(statements); pt0=$(proc_ticks "$SPID"); c0=$(cpu_ticks "$SERVER_CPU"); w0=$(cpu_ticks "$WRK_CPU"); t0=$(now_s)
  taskset -c "$WRK_CPU" timeout $((DURATION + 60)) wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency \
    -s "$ROOT/bench/token.lua" "$TOKEN_URL" >"$raw" 2>&1 || { cat "$raw" >&2; die "wrk failed ($tag)"; }
  t1=$(now_s); pt1=$(proc_ticks "$SPID"); c1=$(cpu_ticks "$SERVER_CPU"); w1=$(cpu_ticks "$WRK_CPU"); s1=$(statements)
  kill -0 "$SPID" 2>/dev/null || die "server died during $tag"
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$raw"); non2xx=${non2xx:-0}
  awk -v tag="$tag" -v pl="$pollers" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v n2="$non2xx" \
      -v t0="$t0" -v t1="$t1" -v pt0="$pt0" -v pt1="$pt1" -v hz="$CLK_TCK" -v c0="$c0" -v c1="$c1" \
      -v w0="$w0" -v w1="$w1" -v s0="$s0" -v s1="$s1" -v dur="$DURATION" 'BEGIN {
    split(c0, a, " "); split(c1, b, " ")
    wall = t1 - t0
    srv = (pt1 - pt0) / hz / wall * 100
    tot = b[2] - a[2]; busy = tot > 0 ? (b[1] - a[1]) / tot * 100 : 0
    other = busy - srv; if (other < 0) other = 0
    split(w0, x, " "); split(w1, y, " ")
    wtot = y[2] - x[2]; wbusy = wtot > 0 ? (y[1] - x[1]) / wtot * 100 : 0
    reqs = rps * dur
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%d\t%.4f\n", tag, pl, rps, p50, p99, n2, srv, other,
      wbusy, s1 - s0, (reqs > 0 ? (s1 - s0) / reqs : 0) }' >>"$TSV"
  tail -1 "$TSV" >&2
}

# start_pollers TAG IDLE_SECS POLL_SECS: device_pollers in the background (PPID_POLLERS),
# returns once its polling window is open.
start_pollers() {
  local tag=$1
  taskset -c "$WRK_CPU" "$POLLERS" --base "$BASE" --realm bench --client-id tv --client-secret "$TV_SECRET" \
    --devices "$DEVICES" --duration "$3" --idle "$2" --metrics "$METRICS" --slack-ms "$SLACK_MS" \
    --label "$tag" >"$OUTDIR/pollers-$tag.out" 2>"$OUTDIR/pollers-$tag.err" &
  PPID_POLLERS=$!
  local i
  for i in $(seq 1 1200); do
    grep -q 'window open' "$OUTDIR/pollers-$tag.err" 2>/dev/null && return 0
    kill -0 "$PPID_POLLERS" 2>/dev/null || { cat "$OUTDIR/pollers-$tag.err" >&2; die "device_pollers exited ($tag)"; }
    sleep 0.1
  done
  die "device_pollers: no polling window after 120 s ($tag)"
}
finish_pollers() {
  wait "$PPID_POLLERS" || { cat "$OUTDIR/pollers-$1.err" >&2; PPID_POLLERS=""; die "device_pollers failed ($1)"; }
  PPID_POLLERS=""
  grep '^{' "$OUTDIR/pollers-$1.out" >>"$OUTDIR/pollers.jsonl"
  grep '^| ' "$OUTDIR/pollers-$1.out" >>"$OUTDIR/pollers-rows.md"
}

: >"$OUTDIR/pollers.jsonl"
: >"$OUTDIR/pollers-rows.md"
for r in $(seq 1 "$ROUNDS"); do
  log "round $r: A (no pollers)"
  wrk_run "A$r" 0
  log "round $r: B ($DEVICES pollers)"
  start_pollers "B$r" "$IDLE" $((LEAD + DURATION + 2))
  sleep "$LEAD"
  wrk_run "B$r" "$DEVICES"
  finish_pollers "B$r"
done

# What a poll costs the server's core: its CPU time over 10 s of polling alone.
log "pollers alone: server CPU over 10 s"
start_pollers P 0 13
sleep 1
pt0=$(proc_ticks "$SPID"); t0=$(now_s)
sleep 10
pt1=$(proc_ticks "$SPID"); t1=$(now_s)
finish_pollers P
CPU_PER_POLL=$(jq -r --arg pt "$((pt1 - pt0))" --arg hz "$CLK_TCK" --arg t0 "$t0" --arg t1 "$t1" \
  'select(.label == "P") | "\(($pt | tonumber) / ($hz | tonumber) / (($t1 | tonumber) - ($t0 | tonumber)) * 1000 | round / 10) % of the server core at \(.polls_per_s * 10 | round / 10) polls/s: \(($pt | tonumber) / ($hz | tonumber) / (($t1 | tonumber) - ($t0 | tonumber)) / .polls_per_s * 1e6 | round) µs of CPU per poll"' \
  "$OUTDIR/pollers.jsonl")

# Writes: a pollers-only window traced for every write and sync to the data directory.
WRITES="-"
if [ "$WRITE_CHECK" = 1 ]; then
  log "write check: $DEVICES pollers, $WRITE_SECS s under strace"
  start_pollers W 0 $((WRITE_SECS + 4))
  sleep 1
  timeout "$WRITE_SECS" strace -f -qq -y -e trace=write,pwrite64,pwritev,pwritev2,fsync,fdatasync,ftruncate \
    -o "$OUTDIR/strace-writes.txt" -p "$SPID" || true
  finish_pollers W
  grep -F "<$WORK/data" "$OUTDIR/strace-writes.txt" >"$OUTDIR/strace-db-writes.txt" || true
  WRITES=$(wc -l <"$OUTDIR/strace-db-writes.txt")
  # Control: the same trace around one device authorization (one INSERT) must see writes.
  timeout 3 strace -f -qq -y -e trace=write,pwrite64,pwritev,pwritev2,fsync,fdatasync,ftruncate \
    -o "$OUTDIR/strace-control.txt" -p "$SPID" &
  TRACER=$!
  sleep 1
  curl -fsS -u "tv:$TV_SECRET" -d scope=openid "$BASE/realms/bench/protocol/openid-connect/auth/device" >/dev/null
  wait "$TRACER" || true
  CONTROL=$(grep -cF "<$WORK/data" "$OUTDIR/strace-control.txt" || true)
  WRITE_POLLS=$(jq -r --argjson s "$WRITE_SECS" 'select(.label == "W") | .polls_per_s * $s | floor' "$OUTDIR/pollers.jsonl")
fi

DB=$([ -n "${DATABASE_URL:-}" ] && echo PostgreSQL || echo SQLite)
{
  echo "# Device polling benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- commit $(git -C "$ROOT" rev-parse --short HEAD), binary $BIN ($(date -u -r "$BIN" +%H:%M:%SZ)), $DB;"
  echo "  server pinned to CPU $SERVER_CPU, wrk (1 thread, c$CONNS, ${DURATION} s, client_credentials, $([ "$TOKEN_DELAY_MS" = 0 ] && echo saturating || echo "paced: $TOKEN_DELAY_MS ms before each request of a connection")) and"
  echo "  the pollers on CPU $WRK_CPU; $DEVICES devices polling every $INTERVAL s (slack ${SLACK_MS} ms), wrk started $LEAD s into their window;"
  echo "  load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| run | pollers | req/s | p50 ms | p99 ms | non-2xx | server CPU % | other load on server core % | wrk core busy % | statements | per request |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  tail -n +2 "$TSV" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }'
  echo
  echo "Pollers (window = the whole polling window, wrk runs inside it in B; statements = the server's, all requests):"
  echo
  echo "| label | devices | interval s | window s | polls | polls/s | authorization_pending | slow_down | other | statements | per poll | idle per s | net per poll | poll p50 ms | poll p99 ms |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$OUTDIR/pollers-rows.md"
  echo
  awk -F'\t' 'NR > 1 { k = substr($1, 1, 1); n = substr($1, 2); p[k, n] = $5; s[k] += $5; c[k]++ }
    END {
      for (i = 1; (("A", i) in p) && (("B", i) in p); i++)
        printf "- round %d: p99 B/A = %.3f / %.3f ms = %.3f\n", i, p["B", i], p["A", i], p["B", i] / p["A", i]
      if (c["A"] && c["B"]) {
        r = (s["B"] / c["B"]) / (s["A"] / c["A"])
        printf "- mean p99: B %.3f ms / A %.3f ms = **%.3f** (target <= 1.10: **%s**)\n", s["B"] / c["B"], s["A"] / c["A"], r, (r <= 1.10 ? "met" : "missed")
      }
    }' "$TSV"
  echo "- pollers alone (P): $CPU_PER_POLL"
  jq -rs 'map(select(.label | test("^B"))) | "- polls/s \(map(.polls_per_s * 10 | round / 10) | join(", ")); slow_down \(map(.slow_down) | add); other answers \(map(.other) | add); statements per poll \(map(.statements_per_poll * 1000 | round / 1000) | join(", ")) (net of the idle rate \(map(.net_statements_per_poll * 1000 | round / 1000) | join(", ")); idle \(map(.idle_statements_per_s * 100 | round / 100) | join(", ")) statements/s); statements per device authorization \(map(.statements_per_device_authorization * 100 | round / 100) | join(", "))"' "$OUTDIR/pollers.jsonl"
  if [ "$WRITES" != "-" ]; then
    echo "- writes: $WRITES write/sync calls to the data directory's files during $WRITE_SECS s of polling alone (about $WRITE_POLLS polls; strace -y, $OUTDIR/strace-db-writes.txt); control, one device authorization traced the same way: $CONTROL"
  fi
} | tee "$OUTDIR/summary.md"
