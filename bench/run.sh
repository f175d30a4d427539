#!/usr/bin/env bash
# EPMPulse benchmark: builds in Release, starts the real server (temp data dir,
# bench config, rate limits off) and a bare RESTinio baseline with the same
# io-thread setting on 127.0.0.1 ephemeral ports, drives both with wrk and
# the C++ load client, and prints the table (also bench/results/<date>.json).
# An "actor_hop" row measures the baseline answering through one CAF actor:
# the price of the architecture alone, before any work of the service.
#
#   bash bench/run.sh [--quick] [--duration S] [--canvas-duration S]
#                     [--connections N] [--wrk-threads N] [--io-threads N]
#                     [--actor-threads N] [--no-build] [--keep]
#
#   --quick            smoke run: every scenario ~2 s (about 10 s of load)
#   --duration S       seconds per tool per scenario (default 10)
#   --canvas-duration  seconds of push load for the canvas scenario (default 60)
#   --keep             keep the temp dir (configs, server logs) for inspection
#
# Environment: BENCH_BUILD_DIR (default build/), BENCH_SERVER (server binary to
# measure, default $BENCH_BUILD_DIR/epmpulse), BENCH_TMPDIR (data dirs; a disk).
#
# Everything it starts it stops (trap EXIT). It only ever targets 127.0.0.1.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD=${BENCH_BUILD_DIR:-$ROOT/build}
DURATION=10
CANVAS_DURATION=60
CONNECTIONS=64
WRK_THREADS=2
IO_THREADS=1
ACTOR_THREADS=1
QUICK=0
BUILD_STEP=1
KEEP=0
SLACK_INTERVAL=2
COMMAND="${BENCH_SERVER:+BENCH_SERVER=$BENCH_SERVER }bash bench/run.sh $*"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; DURATION=1; CANVAS_DURATION=3 ;;
    --duration) DURATION=$2; shift ;;
    --canvas-duration) CANVAS_DURATION=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --wrk-threads) WRK_THREADS=$2; shift ;;
    --io-threads) IO_THREADS=$2; shift ;;
    --actor-threads) ACTOR_THREADS=$2; shift ;;
    --no-build) BUILD_STEP=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log() { bench_log "$@"; }
die() { bench_die "$@"; }

for tool in wrk curl python3 cmake; do
  command -v "$tool" >/dev/null || die "$tool is missing (make deps installs it)"
done

# -- build ------------------------------------------------------------------------

if [ "$BUILD_STEP" = 1 ]; then
  log "building Release into $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" --target epmpulse baseline_server load_client commit_cost -j "$(nproc)"
fi
# BENCH_SERVER runs another build of the server (e.g. an older commit's, for a
# before/after comparison in the same session); the tools still come from BUILD.
EPMPULSE=${BENCH_SERVER:-$BUILD/epmpulse}
BASELINE=$BUILD/bench/baseline_server
LOAD_CLIENT=$BUILD/bench/load_client
for bin in "$EPMPULSE" "$BASELINE" "$LOAD_CLIENT" "$BUILD/bench/commit_cost"; do
  [ -x "$bin" ] || die "$bin is not built"
done

# -- processes and clean-up -------------------------------------------------------

# The data dirs live here: it must be a real disk, fsync is what is measured.
WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/epmpulse-bench.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do bench_stop "$pid"; done
  if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # pid: drop from the clean-up list once stopped
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

start_server() { # name domains [slack_url]: sets SERVER_PID, SERVER_URL
  local name=$1 domains=$2 slack=${3:-}
  local slack_args=()
  [ -n "$slack" ] && slack_args=(--slack-url "$slack" --slack-interval "$SLACK_INTERVAL")
  bench_config "$WORK/$name" "$domains" \
    --io-threads "$IO_THREADS" --actor-threads "$ACTOR_THREADS" "${slack_args[@]}"
  bench_start_server "$WORK/$name" "$EPMPULSE"
  PIDS+=("$SERVER_PID")
  log "server $name ($domains domains) pid $SERVER_PID on $SERVER_URL"
}

BASELINE_PID=
BASELINE_URL=
HOP_PID=
HOP_URL=
GET_BASE_PID=
STARTED_PID=
STARTED_URL=
start_baseline() { # [--actor-hop]: sets STARTED_PID, STARTED_URL
  local out=$WORK/baseline$#.port port= i
  "$BASELINE" --host 127.0.0.1 --port 0 --io-threads "$IO_THREADS" "$@" >"$out" &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  for ((i = 0; i < 600; i++)); do
    port=$(head -n1 "$out" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || die "baseline server $* did not report its port"
  STARTED_URL=http://127.0.0.1:$port
  log "baseline server $* pid $STARTED_PID on $STARTED_URL"
}

# The baselines serve no /metrics.
serves_metrics() { [ "$1" != "$BASELINE_PID" ] && [ "$1" != "$HOP_PID" ] && [ "$1" != "$GET_BASE_PID" ]; }

stop_server() { bench_stop "$1"; forget_pid "$1"; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

scrape() { # url file
  curl -s --noproxy '*' --max-time 10 -H "Authorization: Bearer $ADMIN_KEY" "$1/metrics" >"$2" || true
}

ROWS=$WORK/rows.jsonl
: >"$ROWS"
N=0

# run_tool scenario url pid tool-args...: runs wrk or load_client, scrapes
# /metrics around it, appends a row. tool-args start with "wrk" or "lc".
run_tool() {
  local scenario=$1 url=$2 pid=$3 kind=$4
  shift 4
  N=$((N + 1))
  local out=$WORK/run-$N.json before=$WORK/run-$N.before after=$WORK/run-$N.after
  local metrics_args=()
  if serves_metrics "$pid"; then
    scrape "$url" "$before"
    metrics_args=(--before "$before" --after "$after")
  fi
  log "$scenario: $kind $*"
  local cpu_before
  cpu_before=$(head -n1 /proc/stat)
  if [ "$kind" = wrk ]; then
    local script=$1
    shift
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
      -s "$ROOT/bench/$script" "$url" -- "$@" | sed -n 's/^WRKJSON //p' >"$out" || true
  else
    "$LOAD_CLIENT" --url "$url" --key "$WRITE_KEY" --connections "$CONNECTIONS" "$@" >"$out" || true
  fi
  if serves_metrics "$pid"; then scrape "$url" "$after"; fi
  [ -s "$out" ] || echo '{"tool":"'"$kind"'","tool_error":"no output"}' >"$out"
  python3 "$ROOT/bench/bench_util.py" row --scenario "$scenario" --tool-json "$out" \
    "${metrics_args[@]}" --rss-kb "$(rss_kb "$pid")" \
    --cpu-before "$cpu_before" --cpu-after "$(head -n1 /proc/stat)" >>"$ROWS"
  tail -n1 "$ROWS" >&2
}

lc() { echo "--duration $DURATION --apps $APPS"; }

# -- scenarios --------------------------------------------------------------------

if [ "$(stat -f -c %T "$WORK")" = tmpfs ]; then
  log "warning: $WORK is on tmpfs: fsync costs nothing there; set BENCH_TMPDIR to a disk"
fi
log "work dir $WORK; $CONNECTIONS connections, ${DURATION}s per run, io threads $IO_THREADS, actor threads $ACTOR_THREADS"

# Baseline (start): the same POST bodies, answered without any work.
start_baseline
BASELINE_PID=$STARTED_PID
BASELINE_URL=$STARTED_URL
run_tool baseline "$BASELINE_URL" "$BASELINE_PID" wrk post_status.lua "$WRITE_KEY" 150 "$APPS"
run_tool baseline "$BASELINE_URL" "$BASELINE_PID" lc $(lc) --domains 150 --no-check

# The same answer after one hop through a CAF actor: what the architecture
# alone costs on this machine, before any parsing, state or disk.
start_baseline --actor-hop
HOP_PID=$STARTED_PID
HOP_URL=$STARTED_URL
run_tool actor_hop "$HOP_URL" "$HOP_PID" wrk post_status.lua "$WRITE_KEY" 150 "$APPS"
stop_server "$HOP_PID"

# 3 apps x 50 domains: single pushes, batches of 10, mixed 90/10.
start_server s150 150
S=$SERVER_PID U=$SERVER_URL
run_tool post_150 "$U" "$S" wrk post_status.lua "$WRITE_KEY" 150 "$APPS"
run_tool post_150 "$U" "$S" lc $(lc) --domains 150 --mode single
run_tool batch_150 "$U" "$S" wrk post_batch.lua "$WRITE_KEY" 150 "$APPS"
run_tool batch_150 "$U" "$S" lc $(lc) --domains 150 --mode batch --batch-size 10
stop_server "$S"

# A fresh server for the mixed load: the load client keeps each pair's event
# times strictly increasing, so at 200,000+ batched updates a second over 150
# pairs its timestamps run seconds ahead of the clock, and wrk's pushes, timed
# by the clock, would then be answered "stale" without a write.
start_server s150m 150
S=$SERVER_PID U=$SERVER_URL
run_tool mixed_150 "$U" "$S" wrk mixed.lua "$WRITE_KEY" 150 "$APPS"
run_tool mixed_150 "$U" "$S" lc $(lc) --domains 150 --mode mixed --get-ratio 0.1
stop_server "$S"

# 1,000 domains: pushes, then reads of the state they built.
start_server s1000 1000
S=$SERVER_PID U=$SERVER_URL
run_tool post_1000 "$U" "$S" wrk post_status.lua "$WRITE_KEY" 1000 "$APPS"
run_tool post_1000 "$U" "$S" lc $(lc) --domains 1000 --mode single
run_tool get_1000 "$U" "$S" wrk get_status.lua "$READ_KEY"
run_tool get_1000 "$U" "$S" lc $(lc) --domains 1000 --mode get
# As browsers and `curl --compressed` ask: gzip, made once per state version.
run_tool get_1000_gzip "$U" "$S" wrk get_status.lua "$READ_KEY" gzip
# Dashboards polling with If-None-Match: 304 while the state is unchanged.
# (The load client, not wrk: wrk's HTTP parser reads a 304 that states its
# 200's Content-Length, as RFC 9110 allows, as if a body followed.)
run_tool get_1000_poll "$U" "$S" lc $(lc) --domains 1000 --mode poll
GET_BODY_BYTES=$(curl -s --noproxy '*' --max-time 10 -H "Authorization: Bearer $READ_KEY" \
  "$U/api/v1/status" | wc -c)
GET_GZIP_BYTES=$(curl -s --noproxy '*' --max-time 10 -H "Authorization: Bearer $READ_KEY" \
  -H "Accept-Encoding: gzip" "$U/api/v1/status" | wc -c)
# Pushes with dashboards reading (gzip) at this size: each read meets a new
# state version, so this is what "serialise once per version" costs.
run_tool mixed_1000_gzip "$U" "$S" wrk mixed.lua "$WRITE_KEY" 1000 "$APPS" gzip
stop_server "$S"

# The bare baseline sending a body of that size, from one shared buffer as
# the service does: what moving those bytes a request costs on this machine
# before any work, the yardstick for the GET rows.
start_baseline --body-bytes "$GET_BODY_BYTES"
GET_BASE_PID=$STARTED_PID
run_tool get_1000_bare "$STARTED_URL" "$GET_BASE_PID" wrk get_status.lua "$READ_KEY"
run_tool get_1000_bare "$STARTED_URL" "$GET_BASE_PID" lc $(lc) --domains 1000 --mode get --no-check
stop_server "$GET_BASE_PID"
start_baseline --body-bytes "$GET_GZIP_BYTES"
GET_BASE_PID=$STARTED_PID
run_tool get_1000_gzip_bare "$STARTED_URL" "$GET_BASE_PID" wrk get_status.lua "$READ_KEY"
stop_server "$GET_BASE_PID"

# 10,000 domains: the cost of a large state (commit size, RSS after the run).
start_server s10000 10000
S=$SERVER_PID U=$SERVER_URL
run_tool post_10000 "$U" "$S" wrk post_status.lua "$WRITE_KEY" 10000 "$APPS"
run_tool post_10000 "$U" "$S" lc $(lc) --domains 10000 --mode single
stop_server "$S"

# Canvas: the full push load for CANVAS_DURATION with a fake Slack.
SLACK_PORT_FILE=$WORK/fake_slack.port
python3 "$ROOT/bench/fake_slack.py" --port 0 >"$SLACK_PORT_FILE" &
SLACK_PID=$!
PIDS+=("$SLACK_PID")
for ((i = 0; i < 300; i++)); do [ -s "$SLACK_PORT_FILE" ] && break; sleep 0.1; done
[ -s "$SLACK_PORT_FILE" ] || die "fake Slack did not start"
SLACK_URL=http://127.0.0.1:$(head -n1 "$SLACK_PORT_FILE")
start_server canvas 150 "$SLACK_URL/api"
S=$SERVER_PID U=$SERVER_URL
curl -s --noproxy '*' -X POST "$SLACK_URL/_reset" >/dev/null
N=$((N + 1))
CANVAS_RUN=$WORK/run-$N
scrape "$U" "$CANVAS_RUN.before"
log "canvas_150: lc for ${CANVAS_DURATION}s with fake Slack at $SLACK_URL"
"$LOAD_CLIENT" --url "$U" --key "$WRITE_KEY" --connections "$CONNECTIONS" --apps "$APPS" \
  --domains 150 --mode single --duration "$CANVAS_DURATION" --label canvas >"$CANVAS_RUN.json" || true
CANVAS_CHECK=$(python3 "$ROOT/bench/bench_util.py" canvas --slack "$SLACK_URL" --server "$U" \
  --admin-key "$ADMIN_KEY" --interval "$SLACK_INTERVAL" --duration "$CANVAS_DURATION" \
  --timeout $((SLACK_INTERVAL * 5 + 10)) || echo '{"canvas_ok":false,"canvas_note":"check failed"}')
scrape "$U" "$CANVAS_RUN.after"
[ -s "$CANVAS_RUN.json" ] || echo '{"tool":"load_client","tool_error":"no output"}' >"$CANVAS_RUN.json"
python3 "$ROOT/bench/bench_util.py" row --scenario canvas_150 --tool-json "$CANVAS_RUN.json" \
  --before "$CANVAS_RUN.before" --after "$CANVAS_RUN.after" --rss-kb "$(rss_kb "$S")" \
  --extra "$CANVAS_CHECK" >>"$ROWS"
tail -n1 "$ROWS" >&2
stop_server "$S"
stop_server "$SLACK_PID"

# PostgreSQL storage: one and two instances against the JSON mode in the same
# run, fsync and synchronous_commit on (bench/pg.sh; its rows join the table).
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  BENCH_BUILD_DIR=$BUILD bash "$ROOT/bench/pg.sh" --duration "$DURATION" \
    --connections "$CONNECTIONS" --rows "$ROWS" || log "pg.sh failed: its rows are missing or marked"
else
  log "PostgreSQL rows skipped: no server binaries (scripts/install-deps.sh test installs them)"
fi

# Baseline (end): the machine is shared, so the baseline is the mean of both.
run_tool baseline "$BASELINE_URL" "$BASELINE_PID" wrk post_status.lua "$WRITE_KEY" 150 "$APPS"
run_tool baseline "$BASELINE_URL" "$BASELINE_PID" lc $(lc) --domains 150 --no-check
stop_server "$BASELINE_PID"

# The cost of one commit as the state grows (outside the server).
log "commit cost: whole-file rewrite vs. an appended, fdatasync'd change record"
mkdir -p "$WORK/commit"
"$BUILD/bench/commit_cost" --dir "$WORK/commit" --writes "$([ "$QUICK" = 1 ] && echo 5 || echo 20)" \
  >"$WORK/commit_cost.jsonl" || log "commit_cost failed"

# -- report -----------------------------------------------------------------------

mkdir -p "$ROOT/bench/results"
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
# Not `$([ "$QUICK" = 1 ] && echo -quick)` inside the assignment: under set -e
# an assignment takes its substitution's status, so a full run stopped here.
SUFFIX=
if [ "$QUICK" = 1 ]; then SUFFIX=-quick; fi
OUT=$ROOT/bench/results/$STAMP$SUFFIX.json
echo
python3 "$ROOT/bench/bench_util.py" report --rows "$ROWS" --out "$OUT" --command "$COMMAND" \
  --commit-cost "$WORK/commit_cost.jsonl" --get-body-bytes "${GET_BODY_BYTES:-0}" --get-gzip-bytes "${GET_GZIP_BYTES:-0}" \
  $([ "$QUICK" = 1 ] && echo --quick)
echo
log "results written to ${OUT#$ROOT/}"
