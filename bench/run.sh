#!/usr/bin/env bash
# Tessera HTTP benchmark: discovery and client_credentials (RS256 and EdDSA access tokens)
# under wrk, compared in the same run with the reference provider
# ../shared/peers/node-oidc-provider (panva/oidc-provider) under the same load; then
# client_credentials with private_key_jwt (RS256 and EdDSA assertions) next to
# client_secret_basic in the EdDSA realm.
#
#   bench/run.sh                          # 3 s warm-up + 10 s per run, 8/16/32 connections
#   DURATION=5s CONNS="8 32" bench/run.sh
#   PEER=0 bench/run.sh                   # Tessera only
#
# Loopback only (127.0.0.1). Bounded: every wrk run has a fixed duration; the default
# run takes about 3.5 minutes (5 endpoints x (3 s + 3 x 10 s), plus start-up), and a run
# disturbed by other load on the two cores is repeated at most RETRIES (2) times.
# Each server is pinned to CPU $SERVER_CPU (default 0) with taskset, so actix starts ONE
# worker; wrk (one thread) is pinned to CPU $WRK_CPU (default 1). Both servers stay up and
# their runs are interleaved per connection count, so background load hits both alike.
#
# Environment:
#   DURATION (10s)  WARMUP (3s)  CONNS ("8 16 32")   wrk run length, warm-up, connection counts
#   PORT (18080)  PEER_PORT (13001)                   loopback ports
#   TESSERA_BIN     binary to test (default $CARGO_TARGET_DIR or ./target, release/tessera;
#                   built with `cargo build --release` only when missing: rebuild yourself
#                   to measure the current source)
#   PEER (1)        0 skips the peer; PEER_DIR (../shared/peers/node-oidc-provider)
#   PKJWT (1)       0 skips the private_key_jwt runs; ASSERTIONS_N (80000) assertions
#                   pre-signed per run (examples/client_assertions, built when missing;
#                   signed on the wrk core before each run, outside the measured time)
#   SERVER_CPU (0)  WRK_CPU (1)
#   MAX_OTHER_SERVER (10)  MAX_OTHER_WRK (25)  RETRIES (2)   when a run counts as disturbed
#                   (% of the core busy with anything else) and how often it is repeated
#   OUTDIR          default bench/results/<UTC timestamp>
# Needs: wrk (apt-get install -y wrk), taskset, curl, base64; node + npm for the peer.
# Output: $OUTDIR/summary.md (also printed), results.tsv, raw wrk output, RSS samples, logs.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=$ROOT/bench
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-"8 16 32"}
PORT=${PORT:-18080}
PEER_PORT=${PEER_PORT:-13001}
PEER=${PEER:-1}
PKJWT=${PKJWT:-1}
ASSERTIONS_N=${ASSERTIONS_N:-80000}
PEER_DIR=${PEER_DIR:-$ROOT/../shared/peers/node-oidc-provider}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
BIN=${TESSERA_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/tessera}
OUTDIR=${OUTDIR:-$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ)}
CLK_TCK=$(getconf CLK_TCK)
# A run is flagged "disturbed" when something else kept the server's core busier than
# MAX_OTHER_SERVER % or wrk's core busier than MAX_OTHER_WRK % (loopback softirq alone is a few %).
MAX_OTHER_SERVER=${MAX_OTHER_SERVER:-10}
MAX_OTHER_WRK=${MAX_OTHER_WRK:-25}
RETRIES=${RETRIES:-2}   # extra attempts for a disturbed run (bounded: at most 1 + RETRIES runs each)

die() { echo "bench: $*" >&2; exit 1; }
for tool in wrk taskset curl base64 od; do
  command -v "$tool" >/dev/null || die "$tool missing (wrk: apt-get install -y wrk)"
done
[ "$(nproc --all)" -ge 2 ] || die "needs at least 2 CPUs (server and wrk on separate cores)"
if [ "$PEER" = 1 ]; then
  command -v node >/dev/null || die "node missing (set PEER=0 to skip the peer)"
  [ -f "$PEER_DIR/server.mjs" ] || die "peer not found at $PEER_DIR (set PEER_DIR or PEER=0)"
fi

# The source tree as it is now (before any build); with TESSERA_BIN the binary may be older.
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- crates src migration Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  COMMIT="$COMMIT (+ uncommitted source changes)"
fi
BIN_ORIGIN="built by this script or found in the target directory"
[ -z "${TESSERA_BIN:-}" ] || BIN_ORIGIN="given as TESSERA_BIN, may predate the commit"
if [ ! -x "$BIN" ]; then
  echo "bench: $BIN missing, building the release binary (several minutes cold)" >&2
  (cd "$ROOT" && cargo build --release --bin tessera)
  [ -x "$BIN" ] || die "build did not produce $BIN (set TESSERA_BIN or CARGO_TARGET_DIR)"
fi

SIGNER=$(dirname "$BIN")/examples/client_assertions
if [ "$PKJWT" = 1 ] && [ ! -x "$SIGNER" ]; then
  (cd "$ROOT" && cargo build --release --example client_assertions)
  [ -x "$SIGNER" ] || die "build did not produce $SIGNER (set PKJWT=0 to skip)"
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_free "$PORT" || die "port $PORT is in use; set PORT="
if [ "$PEER" = 1 ]; then port_free "$PEER_PORT" || die "port $PEER_PORT is in use; set PEER_PORT="; fi

mkdir -p "$OUTDIR"
DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- measurement helpers ----------

# wrk latency ("812.00us", "1.23ms", "1.01s", "1.00m") -> milliseconds with 3 decimals
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); x = v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); x = v + 0 }
    else if (v ~ /m$/) { sub(/m$/, "", v); x = v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); x = v * 1000 }
    else { x = -1 }
    printf "%.3f", x }'
}
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# utime + stime of a process, in clock ticks (fields after the parenthesised comm)
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# "busy total steal" ticks of one CPU from /proc/stat
cpu_ticks() {
  awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8; tot = 0
    for (i = 2; i <= 9; i++) tot += $i; print busy, tot, $9 }' /proc/stat
}
now_s() { date +%s.%N; }
wait_http() {
  local i
  for i in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
b64url_json() { # decode one base64url JWT segment
  local s
  s=$(printf '%s' "$1" | tr '_-' '/+')
  while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
  printf '%s' "$s" | base64 -d 2>/dev/null
}
json_str() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | sed "s/^\"$1\":\"//; s/\"\$//"; }

TSV=$OUTDIR/results.tsv
printf 'server\tendpoint\tconns\treq_s\tp50_ms\tp99_ms\tnon2xx\tsocket_errors\tpeak_rss_mib\tserver_cpu_pct\twrk_cpu_pct\tother_busy_server_core_pct\tother_busy_wrk_core_pct\tsteal_pct\tdisturbed\tattempts\n' >"$TSV"

# run_once TAG SERVER ENDPOINT PID URL CONNS [wrk args...]: one bounded wrk run; prints a TSV row
run_once() {
  local tag=$1 server=$2 endpoint=$3 pid=$4 url=$5 c=$6; shift 6
  local raw="$OUTDIR/raw-$tag.txt" rssf="$OUTDIR/rss-$tag.txt"
  # Reset the peak-RSS watermark (VmHWM) so it covers this run only (needs owner or root).
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
  ( while kill -0 "$pid" 2>/dev/null; do status_kib "$pid" VmRSS; sleep 0.2; done ) >"$rssf" &
  local sampler=$!
  PIDS+=("$sampler")
  local t0 t1 pt0 pt1 c0 c1 w0 w1 wt TIMEFORMAT='%U %S'
  pt0=$(proc_ticks "$pid"); c0=$(cpu_ticks "$SERVER_CPU"); w0=$(cpu_ticks "$WRK_CPU"); t0=$(now_s)
  { time taskset -c "$WRK_CPU" wrk -t1 -c"$c" -d"$DURATION" --latency "$@" "$url" >"$raw" 2>&1; } \
    2>"$OUTDIR/time-$tag.txt" || { cat "$raw" >&2; die "wrk failed for $tag"; }
  t1=$(now_s); pt1=$(proc_ticks "$pid"); c1=$(cpu_ticks "$SERVER_CPU"); w1=$(cpu_ticks "$WRK_CPU")
  wt=$(tail -1 "$OUTDIR/time-$tag.txt")
  local hwm
  hwm=$(status_kib "$pid" VmHWM)
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  kill -0 "$pid" 2>/dev/null || die "server died during $tag"
  local rps p50 p99 non2xx errs peak
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$raw")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$raw"); non2xx=${non2xx:-0}
  errs=$(awk '/Socket errors:/ { sub(/^ *Socket errors: /, ""); print }' "$raw"); errs=${errs:-none}
  peak=$(sort -n "$rssf" | tail -1); peak=${peak:-0}
  [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
  # CPU accounting over the run: the server process (all on its pinned core), wrk (user+sys
  # from bash's `time`), what else kept each core busy (other processes, interrupts), and steal.
  awk -v srv="$server" -v ep="$endpoint" -v c="$c" -v rps="$rps" -v p50="$p50" -v p99="$p99" \
      -v n2="$non2xx" -v er="$errs" -v peak="$peak" -v t0="$t0" -v t1="$t1" -v pt0="$pt0" \
      -v pt1="$pt1" -v hz="$CLK_TCK" -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v wt="$wt" \
      -v max_os="$MAX_OTHER_SERVER" -v max_ow="$MAX_OTHER_WRK" 'BEGIN {
    split(c0, a, " "); split(c1, b, " "); split(w0, x, " "); split(w1, y, " "); split(wt, u, " ")
    wall = t1 - t0
    srvcpu = (pt1 - pt0) / hz / wall * 100
    wrkcpu = (u[1] + u[2]) / wall * 100
    stot = b[2] - a[2]; sbusy = stot > 0 ? (b[1] - a[1]) / stot * 100 : 0
    wtot = y[2] - x[2]; wbusy = wtot > 0 ? (y[1] - x[1]) / wtot * 100 : 0
    steal = stot + wtot > 0 ? ((b[3] - a[3]) + (y[3] - x[3])) / (stot + wtot) * 100 : 0
    os = sbusy - srvcpu; if (os < 0) os = 0
    ow = wbusy - wrkcpu; if (ow < 0) ow = 0
    dist = (os > max_os || ow > max_ow || steal > 5) ? "yes" : "no"
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t%s\n", srv, ep, c, rps,
      p50, p99, n2, er, peak / 1024, srvcpu, wrkcpu, os, ow, steal, dist }'
}

# run_wrk SERVER ENDPOINT PID URL CONNS [wrk args...]: one measurement, appended to the TSV.
# A disturbed run (see MAX_OTHER_*) is repeated up to RETRIES times; the least disturbed
# attempt is kept and the number of attempts recorded. Every attempt's raw output is kept.
run_wrk() {
  local server=$1 endpoint=$2 pid=$3 url=$4 c=$5; shift 5
  local n=0 row best="" best_other=-1 other
  while :; do
    n=$((n + 1))
    row=$(run_once "$server-$endpoint-c$c-a$n" "$server" "$endpoint" "$pid" "$url" "$c" "$@")
    other=$(printf '%s\n' "$row" | awk -F'\t' '{ print $12 + $13 }')
    if [ "$best_other" = -1 ] || [ "$other" -lt "$best_other" ]; then best=$row; best_other=$other; fi
    printf '%s\n' "$row" | awk -F'\t' -v n="$n" '{ printf "  %-8s %-10s c=%-3s %7s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  peak RSS %s MiB  server CPU %s%%  other load %s%%/%s%%%s\n",
      $1, $2, $3, $4, $5, $6, $7, $9, $10, $12, $13, ($15 == "yes" ? "  DISTURBED (attempt " n ")" : "") }' >&2
    case $row in *$'\t'yes) [ "$n" -le "$RETRIES" ] || break ;; *) break ;; esac
  done
  printf '%s\t%s\n' "$best" "$n" >>"$TSV"
}

# warm SERVER ENDPOINT URL [wrk args...]: unrecorded warm-up at 8 connections
warm() {
  local server=$1 endpoint=$2 url=$3; shift 3
  taskset -c "$WRK_CPU" wrk -t1 -c8 -d"$WARMUP" "$@" "$url" >/dev/null 2>&1 \
    || die "warm-up failed for $server $endpoint"
}

idle_rss_mib() { awk -v k="$(status_kib "$1" VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }'; }
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_BEFORE=$(ps -eo pcpu=,comm= --sort=-pcpu | head -5 | awk '{ printf "%s%s %s%%", (NR > 1 ? ", " : ""), $2, $1 }')
echo "bench: output in $OUTDIR (load average $LOAD_BEFORE)" >&2

# ---------- Tessera ----------
export TESSERA_LOG=warn
SECRET=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')   # 40 hex characters
BASE="http://127.0.0.1:$PORT"
for realm_alg in bench-rs:RS256 bench-ed:EdDSA; do
  realm=${realm_alg%%:*}; alg=${realm_alg#*:}
  "$BIN" --data-dir "$DATA_DIR" realm create "$realm" --access-token-alg "$alg" >>"$OUTDIR/setup.log" 2>&1 \
    || { cat "$OUTDIR/setup.log" >&2; die "realm create $realm failed"; }
  "$BIN" --data-dir "$DATA_DIR" client create --realm "$realm" --client-id bench --secret "$SECRET" \
    --grant-type client_credentials --scope api:read >>"$OUTDIR/setup.log" 2>&1 \
    || { cat "$OUTDIR/setup.log" >&2; die "client create in $realm failed"; }
done
# private_key_jwt clients in the EdDSA realm, one per assertion algorithm.
PK_ALGS=""
[ "$PKJWT" = 1 ] && PK_ALGS="RS256 EdDSA"
for a in $PK_ALGS; do
  "$SIGNER" keys "$DATA_DIR/pk-$a.pk8" "$a" >"$DATA_DIR/pk-$a.jwks" || die "key generation for $a failed"
  "$BIN" --data-dir "$DATA_DIR" client create --realm bench-ed --client-id "bench-pk-$a" \
    --token-endpoint-auth-method private_key_jwt --jwks-file "$DATA_DIR/pk-$a.jwks" \
    --grant-type client_credentials --scope api:read >>"$OUTDIR/setup.log" 2>&1 \
    || { cat "$OUTDIR/setup.log" >&2; die "client create bench-pk-$a failed"; }
done
taskset -c "$SERVER_CPU" "$BIN" --data-dir "$DATA_DIR" serve --listen "127.0.0.1:$PORT" \
  --public-url "$BASE" >"$OUTDIR/tessera.log" 2>&1 &
TPID=$!
PIDS+=("$TPID")
wait_http "$BASE/health/live" "$TPID" \
  || { cat "$OUTDIR/tessera.log" >&2; die "tessera did not start"; }
T_WORKERS=$(ls "/proc/$TPID/task" | wc -l)
BASIC_AUTH=$(printf 'bench:%s' "$SECRET" | base64 -w0)
export BASIC_AUTH TOKEN_BODY=grant_type=client_credentials

declare -A TOKEN_URL DISCOVERY_URL
for realm_alg in bench-rs:RS256 bench-ed:EdDSA; do
  realm=${realm_alg%%:*}; alg=${realm_alg#*:}
  DISCOVERY_URL[$realm]="$BASE/realms/$realm/.well-known/openid-configuration"
  TOKEN_URL[$realm]=$(curl -fsS "${DISCOVERY_URL[$realm]}" | json_str token_endpoint)
  [ -n "${TOKEN_URL[$realm]}" ] || die "no token_endpoint in $realm discovery"
  at=$(curl -fsS -H "Authorization: Basic $BASIC_AUTH" -d "$TOKEN_BODY" "${TOKEN_URL[$realm]}" | json_str access_token) \
    || die "token request to $realm failed"
  got=$(b64url_json "${at%%.*}" | json_str alg) || true
  [ "$got" = "$alg" ] || die "realm $realm issued a $got token, expected $alg"
done
sleep 2
T_IDLE=$(idle_rss_mib "$TPID")
T_VERSION=$("$BIN" --version 2>/dev/null || echo tessera)
echo "bench: tessera pid $TPID ($T_WORKERS threads), idle RSS $T_IDLE MiB" >&2

T_AUTH=$BASIC_AUTH

# ---------- peer: panva/oidc-provider, started next to the (idle) Tessera ----------
P_IDLE=n/a; P_AFTER=n/a; P_VERSION="not run (PEER=0)"; NPID=""
if [ "$PEER" = 1 ]; then
  if [ ! -d "$PEER_DIR/node_modules/oidc-provider" ]; then
    (cd "$PEER_DIR" && npm ci --no-audit --no-fund >&2) || die "npm ci in $PEER_DIR failed"
  fi
  (cd "$PEER_DIR" && QUIET=1 HOST=127.0.0.1 PORT=$PEER_PORT exec taskset -c "$SERVER_CPU" node server.mjs) \
    >"$OUTDIR/peer.log" 2>&1 &
  NPID=$!
  PIDS+=("$NPID")
  PBASE="http://127.0.0.1:$PEER_PORT"
  P_DISCOVERY="$PBASE/.well-known/openid-configuration"
  wait_http "$P_DISCOVERY" "$NPID" || { cat "$OUTDIR/peer.log" >&2; die "peer did not start"; }
  P_TOKEN=$(curl -fsS "$P_DISCOVERY" | json_str token_endpoint)
  P_AUTH=$(printf 'peer-client:peer-secret' | base64 -w0)
  at=$(curl -fsS -H "Authorization: Basic $P_AUTH" -d "$TOKEN_BODY" "$P_TOKEN" | json_str access_token) \
    || die "peer token request failed"
  got=$(b64url_json "${at%%.*}" | json_str alg) || true
  [ "$got" = RS256 ] || die "peer issued a $got token, expected RS256"
  sleep 2
  P_IDLE=$(idle_rss_mib "$NPID")
  P_VERSION="oidc-provider $(node -p "require('$PEER_DIR/node_modules/oidc-provider/package.json').version") on node $(node -v)"
  echo "bench: peer pid $NPID, idle RSS $P_IDLE MiB" >&2
fi

# ---------- load: Tessera and peer interleaved per connection count ----------
# Both servers stay up (the one not under load is idle on the same core), so each Tessera
# run and the peer run it is compared with are minutes apart at most.
T_TOKEN=${TOKEN_URL[bench-rs]}
LUA=(-s "$BENCH_DIR/token.lua")
export BASIC_AUTH=$T_AUTH
warm tessera discovery "${DISCOVERY_URL[bench-rs]}"
[ -z "$NPID" ] || warm peer discovery "$P_DISCOVERY"
for c in $CONNS; do
  run_wrk tessera discovery "$TPID" "${DISCOVERY_URL[bench-rs]}" "$c"
  [ -z "$NPID" ] || run_wrk peer discovery "$NPID" "$P_DISCOVERY" "$c"
done
export BASIC_AUTH=$T_AUTH; warm tessera cc_rs256 "$T_TOKEN" "${LUA[@]}"
if [ -n "$NPID" ]; then export BASIC_AUTH=$P_AUTH; warm peer cc_rs256 "$P_TOKEN" "${LUA[@]}"; fi
for c in $CONNS; do
  export BASIC_AUTH=$T_AUTH; run_wrk tessera cc_rs256 "$TPID" "$T_TOKEN" "$c" "${LUA[@]}"
  if [ -n "$NPID" ]; then export BASIC_AUTH=$P_AUTH; run_wrk peer cc_rs256 "$NPID" "$P_TOKEN" "$c" "${LUA[@]}"; fi
done
export BASIC_AUTH=$T_AUTH
warm tessera cc_eddsa "${TOKEN_URL[bench-ed]}" "${LUA[@]}"
for c in $CONNS; do run_wrk tessera cc_eddsa "$TPID" "${TOKEN_URL[bench-ed]}" "$c" "${LUA[@]}"; done

# private_key_jwt next to client_secret_basic, same realm (EdDSA access tokens), runs
# interleaved per connection count. Each run gets fresh assertions (each is single use and
# lives 290 s), signed on the wrk core before the run starts.
sign_assertions() { # ALG FILE
  taskset -c "$WRK_CPU" "$SIGNER" sign "$DATA_DIR/pk-$1.pk8" "$1" "bench-pk-$1" \
    "${TOKEN_URL[bench-ed]}" "$ASSERTIONS_N" >"$2" || die "signing assertions ($1) failed"
}
if [ "$PKJWT" = 1 ]; then
  export ASSERTIONS=$DATA_DIR/assertions
  for a in $PK_ALGS; do
    sign_assertions "$a" "$DATA_DIR/assertions"
    warm tessera "cc_pkjwt_$a" "${TOKEN_URL[bench-ed]}" -s "$BENCH_DIR/assertion.lua"
  done
  for c in $CONNS; do
    export BASIC_AUTH=$T_AUTH
    run_wrk tessera cc_basic_eddsa "$TPID" "${TOKEN_URL[bench-ed]}" "$c" "${LUA[@]}"
    for a in $PK_ALGS; do
      sign_assertions "$a" "$DATA_DIR/assertions"
      # No repeat of a disturbed run: it would replay the file's assertions.
      RETRIES=0 run_wrk tessera "cc_pkjwt_$a" "$TPID" "${TOKEN_URL[bench-ed]}" "$c" \
        -s "$BENCH_DIR/assertion.lua"
    done
  done
  rm -f "$DATA_DIR/assertions"
fi

T_AFTER=$(idle_rss_mib "$TPID")
stop_pid "$TPID"
if [ -n "$NPID" ]; then P_AFTER=$(idle_rss_mib "$NPID"); stop_pid "$NPID"; fi

# ---------- summary ----------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# Tessera benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- source commit at start $COMMIT; $T_VERSION, binary $BIN (modified $(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ), $BIN_ORIGIN)"
  echo "- peer: $P_VERSION"
  echo "- machine: $(nproc --all) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -m | awk '/^Mem:/ { print $2 }') MiB RAM, $(uname -sr)"
  echo "- load: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), 1 thread pinned to CPU $WRK_CPU, $DURATION per run after a $WARMUP warm-up per endpoint; servers pinned to CPU $SERVER_CPU (taskset), loopback; Tessera and peer runs interleaved per connection count"
  echo "- a run is 'disturbed' when other work kept the server core > $MAX_OTHER_SERVER % or the wrk core > $MAX_OTHER_WRK % busy (or steal > 5 %); such runs were repeated up to $RETRIES times and the least disturbed attempt kept (column 'attempts')"
  echo "- load average before $LOAD_BEFORE, after $LOAD_AFTER; busiest processes at start: $TOP_BEFORE"
  echo "- idle RSS (after start, sanity requests and 2 s idle): tessera $T_IDLE MiB, peer $P_IDLE MiB; after load: tessera $T_AFTER MiB, peer $P_AFTER MiB"
  echo
  echo "| server | endpoint | conns | req/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MiB | server CPU % | wrk CPU % | other load, server core % | other load, wrk core % | steal % | disturbed | attempts |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' 'NR > 1 { s = "|"; for (i = 1; i <= NF; i++) s = s " " $i " |"; print s }' "$TSV"
  if [ "$PEER" = 1 ]; then
    echo
    echo "Tessera vs peer (ratio = Tessera req/s / peer req/s; the peer signs RS256 only, so both token rows compare with its RS256 client_credentials):"
    echo
    echo "| endpoint | conns | Tessera req/s | peer req/s | ratio | Tessera p99 ms | peer p99 ms | Tessera peak RSS MiB | peer peak RSS MiB |"
    echo "|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 && $1 == "tessera" { t[$2, $3] = $0; order[++n] = $2 SUBSEP $3 }
      NR > 1 && $1 == "peer" { p[$2, $3] = $0 }
      END {
        for (i = 1; i <= n; i++) {
          split(order[i], k, SUBSEP); pe = (k[1] == "discovery") ? "discovery" : "cc_rs256"
          split(t[order[i]], a, "\t"); split(p[pe, k[2]], b, "\t")
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k[1], k[2], a[4], b[4],
            (b[4] > 0 ? sprintf("%.2fx", a[4] / b[4]) : "n/a"), a[6], b[6], a[9], b[9]
        }
      }' "$TSV"
  fi
  if [ "$PKJWT" = 1 ]; then
    echo
    echo "private_key_jwt vs client_secret_basic, realm bench-ed (EdDSA access tokens); ratio = private_key_jwt req/s / client_secret_basic req/s:"
    echo
    echo "| assertion alg | conns | basic req/s | private_key_jwt req/s | ratio | basic p99 ms | private_key_jwt p99 ms | non-2xx |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 && $2 == "cc_basic_eddsa" { b[$3] = $0 }
      NR > 1 && $2 ~ /^cc_pkjwt_/ { p[++n] = $0 }
      END {
        for (i = 1; i <= n; i++) {
          split(p[i], a, "\t"); split(b[a[3]], x, "\t"); alg = a[2]; sub(/^cc_pkjwt_/, "", alg)
          printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", alg, a[3], x[4], a[4],
            (x[4] > 0 ? sprintf("%.2fx", a[4] / x[4]) : "n/a"), x[6], a[6], a[7]
        }
      }' "$TSV"
  fi
  echo
  echo "Targets (min-max over the connection counts):"
  echo
  awk -F'\t' -v idle="$T_IDLE" 'NR > 1 {
      k = $1 "/" $2
      if (!(k in lo) || $4 + 0 < lo[k]) lo[k] = $4 + 0
      if (!(k in hi) || $4 + 0 > hi[k]) hi[k] = $4 + 0
      r[$1, $2, $3] = $4 + 0; cs[$3] = 1 }
    function verdict(l, h, t) { return l >= t ? "met" : (h >= t ? "met at some connection counts" : "MISSED") }
    function line(name, k, t) {
      if (!(k in lo)) return
      printf "- %s >= %d req/s: %d-%d req/s -> %s\n", name, t, lo[k], hi[k], verdict(lo[k], hi[k], t) }
    END {
      line("client_credentials RS256", "tessera/cc_rs256", 2800)
      rl = -1; rh = -1
      for (c in cs) if (r["peer", "cc_rs256", c] > 0) {
        q = r["tessera", "cc_rs256", c] / r["peer", "cc_rs256", c]
        if (rl < 0 || q < rl) rl = q; if (q > rh) rh = q }
      if (rl >= 0) printf "- client_credentials RS256 >= 1.8x the peer: %.2fx-%.2fx -> %s\n", rl, rh, verdict(rl, rh, 1.8)
      line("client_credentials EdDSA", "tessera/cc_eddsa", 20000)
      line("discovery", "tessera/discovery", 50000)
      printf "- idle RSS < 25 MiB: %s MiB -> %s\n", idle, (idle + 0 < 25 ? "met" : "MISSED")
    }' "$TSV"
  nd=$(awk -F'\t' 'NR > 1 && $15 == "yes"' "$TSV" | wc -l)
  if [ "$nd" -gt 0 ]; then
    echo
    echo "WARNING: $nd of $(($(wc -l <"$TSV") - 1)) runs were disturbed by other load on the benchmark cores (column 'disturbed'); their numbers understate the server. Re-run when \`uptime\` is quiet."
  fi
  echo
  echo "Raw wrk output, RSS samples (KiB, every 0.2 s) and server logs: $OUTDIR"
} | tee "$OUTDIR/summary.md"
