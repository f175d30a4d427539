#!/usr/bin/env bash
# Pushes with live streams open against none: the same wrk push scenario
# (single POSTs, 3 x 50 domains, 64 connections) on one binary, turn about
# with 0 and with N open GET /api/v1/events streams (curl, reading to
# /dev/null), so both see the same machine weather; reports the median of
# the paired with/without ratios and what the streams received.
#
#   bash bench/sse_streams.sh BINARY [--streams 100] [--rounds 3] [--duration 4]
#
# Loopback only; everything it starts it stops. Needs wrk, curl, python3.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
[ $# -ge 1 ] || { sed -n '2,10p' "$0"; exit 2; }
BIN=$(realpath "$1")
shift
STREAMS=100
ROUNDS=3
DURATION=4
bench_options "streams rounds duration" "$@"

WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/epmpulse-sse.XXXXXX")
CURLS=()
stop_streams() {
  local p
  for p in "${CURLS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${CURLS[@]}"; do wait "$p" 2>/dev/null || true; done
  CURLS=()
}
trap 'stop_streams; bench_stop "$SERVER_PID"; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# run_one streams: a fresh server, `streams` readers, wrk; prints
# {"streams", "wrk", "received_bytes"}.
run_one() {
  local streams=$1 dir i
  dir=$(mktemp -d "$WORK/run.XXXXXX")
  mkdir -p "$dir/streams"
  bench_config "$dir" 150
  bench_start_server "$dir" "$BIN"
  for ((i = 0; i < streams; i++)); do
    curl -sN -H "Authorization: Bearer $READ_KEY" "$SERVER_URL/api/v1/events" \
      >"$dir/streams/$i" &
    CURLS+=($!)
  done
  # Every stream is open (its first comment arrived) before the load starts.
  for ((i = 0; i < 300; i++)); do
    [ "$(find "$dir/streams" -type f -size +0 | wc -l)" -ge "$streams" ] && break
    sleep 0.1
  done
  local wrk_line
  wrk_line=$(wrk -t2 -c64 -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/post_status.lua" \
    "$SERVER_URL" -- "$WRITE_KEY" 150 "$APPS" | sed -n 's/^WRKJSON //p')
  stop_streams
  local bytes
  bytes=$(cat "$dir/streams"/* 2>/dev/null | wc -c)
  bench_stop "$SERVER_PID"
  SERVER_PID=
  echo "{\"streams\":$streams,\"received_bytes\":$bytes,\"wrk\":$wrk_line}"
  rm -rf "$dir"
}

RESULTS=$WORK/results.jsonl
: >"$RESULTS"
for ((round = 1; round <= ROUNDS; round++)); do
  order="0 $STREAMS"
  ((round % 2 == 0)) && order="$STREAMS 0"
  for n in $order; do
    line=$(run_one "$n")
    echo "{\"round\":$round,\"run\":$line}" | tee -a "$RESULTS" >&2
  done
done

python3 - "$RESULTS" "$STREAMS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
by = lambda s: {r["round"]: r["run"] for r in rows if r["run"]["streams"] == s}
none, some = by(0), by(n)
ratios = [some[k]["wrk"]["req_per_s"] / none[k]["wrk"]["req_per_s"] for k in none if k in some]
med = lambda side, key: statistics.median(v["wrk"][key] for v in side.values())
print(f"| streams | pushes/s (median) | p50 ms | p99 ms | failed answers | bytes the streams received |")
print("|---|---|---|---|---|---|")
for s, side in ((0, none), (n, some)):
    failed = sum(v["wrk"].get("errors", 0) + v["wrk"].get("non_2xx", 0) for v in side.values())
    print(f"| {s} | {med(side, 'req_per_s'):.0f} | {med(side, 'p50_ms'):.2f} | "
          f"{med(side, 'p99_ms') if all('p99_ms' in v['wrk'] for v in side.values()) else 'n/a'} | "
          f"{failed} | {statistics.median(v['received_bytes'] for v in side.values()):.0f} |")
print(f"\nwith/without (median of paired rounds): {statistics.median(ratios):.2f}")
PY
