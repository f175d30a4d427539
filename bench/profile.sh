#!/usr/bin/env bash
# Instruction profile of the real server under a fixed small load, with
# valgrind's callgrind (instruction counts are reproducible on a shared
# machine where wall-clock times are not).
#
#   bash bench/profile.sh [--domains 1000] [--requests 2000] [--connections 8]
#                         [--out DIR] [--no-build]
#
# Phases, each dumped separately (instrumentation is off during start-up):
#   post   --requests single POST /api/v1/status from load_client
#   batch  --requests/10 batches of 10
#   get    --requests/4 GET /api/v1/status
# For each phase it writes callgrind_annotate's exclusive and inclusive top
# functions to DIR (default bench/results/profile-<date>/) and prints the
# instructions per request. Everything it starts it stops; loopback only.
# Environment: BENCH_BUILD_DIR (default build/), BENCH_SERVER (the server
# binary to profile, default $BENCH_BUILD_DIR/epmpulse).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD=${BENCH_BUILD_DIR:-$ROOT/build}
DOMAINS=1000
REQUESTS=2000
CONNECTIONS=8
OUT=
BUILD_STEP=1
while [ $# -gt 0 ]; do
  case "$1" in
    --domains) DOMAINS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-build) BUILD_STEP=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench/profile.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$ROOT/bench/results/profile-$(date -u +%Y-%m-%d)-d$DOMAINS}

log() { bench_log "$@"; }
die() { bench_die "$@"; }
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null \
  || die "valgrind is missing (apt-get install valgrind)"

if [ "$BUILD_STEP" = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" --target epmpulse load_client -j "$(nproc)"
fi
# BENCH_SERVER profiles another build of the server (before/after comparisons).
EPMPULSE=${BENCH_SERVER:-$BUILD/epmpulse}
LOAD_CLIENT=$BUILD/bench/load_client

WORK=$(mktemp -d /tmp/epmpulse-profile.XXXXXX)
trap 'bench_stop "$SERVER_PID"; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

KEY=$WRITE_KEY
mkdir -p "$OUT"
bench_config "$WORK" "$DOMAINS"

log "starting the server under callgrind ($DOMAINS domains)"
BENCH_START_SECONDS=600 bench_start_server "$WORK" \
  valgrind --tool=callgrind --instr-atstart=no --log-file="$WORK/valgrind.log" \
  --callgrind-out-file="$WORK/callgrind.out" "$EPMPULSE"
PID=$SERVER_PID
URL=$SERVER_URL
log "server on $URL (pid $PID)"

# Warm-up outside the measurement: first-touch allocations, connection set-up.
"$LOAD_CLIENT" --url "$URL" --key "$KEY" --connections "$CONNECTIONS" --apps "$APPS" \
  --domains "$DOMAINS" --requests 100 --duration 600 --timeout 120 --no-check >/dev/null

phase() { # name load_client-args...
  local name=$1
  shift
  # Zeroed first: without it the second and later dumps came out with
  # negative totals (callgrind 3.19, instrumentation toggled between dumps).
  callgrind_control --zero "$PID" >/dev/null
  callgrind_control --instr=on "$PID" >/dev/null
  "$LOAD_CLIENT" --url "$URL" --key "$KEY" --connections "$CONNECTIONS" --apps "$APPS" \
    --domains "$DOMAINS" --duration 1200 --timeout 300 "$@" >"$OUT/$name.load.json" || true
  callgrind_control --dump="$name" "$PID" >/dev/null
  callgrind_control --instr=off "$PID" >/dev/null
  log "$name: $(cat "$OUT/$name.load.json")"
}

phase post --mode single --requests "$REQUESTS"
phase batch --mode batch --batch-size 10 --requests $((REQUESTS / 10))
phase get --mode get --requests $((REQUESTS / 4))

# Dumps are numbered in order: callgrind.out.1 (post), .2 (batch), .3 (get).
sleep 1
n=0
for name in post batch get; do
  n=$((n + 1))
  f=$(ls "$WORK"/callgrind.out* | grep -E "\.$n$" | head -n1 || true)
  [ -n "$f" ] || { log "no dump for $name"; continue; }
  cp "$f" "$OUT/callgrind.$name.out"
  # Whole reports first: `| head` would end callgrind_annotate with SIGPIPE,
  # which pipefail turns into the end of this script.
  callgrind_annotate --threshold=99 "$f" >"$WORK/$name.exclusive.full" 2>/dev/null || true
  callgrind_annotate --inclusive=yes --threshold=99 "$f" >"$WORK/$name.inclusive.full" 2>/dev/null || true
  head -n 60 "$WORK/$name.exclusive.full" >"$OUT/$name.exclusive.txt"
  head -n 90 "$WORK/$name.inclusive.full" >"$OUT/$name.inclusive.txt"
  total=$(sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' "$OUT/$name.exclusive.txt" | tr -d ,)
  reqs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("requests", 0))' "$OUT/$name.load.json")
  if [ -n "$total" ] && [ "$reqs" -gt 0 ]; then
    log "$name: $total instructions, $((total / reqs)) per request"
    echo "{\"phase\":\"$name\",\"instructions\":$total,\"requests\":$reqs,\"per_request\":$((total / reqs))}" \
      >>"$OUT/summary.jsonl"
  fi
done
log "profiles in ${OUT#$ROOT/}"
