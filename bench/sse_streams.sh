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
while [ $# -gt 0 ]; do
  case "$1" in
    --streams) STREAMS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    *) echo "bench/sse_streams.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/epmpulse-sse.XXXXXX")
PID=
CURLS=()
stop_streams() {
  local p
  for p in "${CURLS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${CURLS[@]}"; do wait "$p" 2>/dev/null || true; done
  CURLS=()
}
cleanup() {
  stop_streams
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KEY=bench-w-$(python3 -c 'import secrets; print(secrets.token_hex(20))')
APPS=Planning,FCCS,ARCS

# run_one streams: a fresh server, `streams` readers, wrk; prints
# {"streams", "wrk", "received_bytes"}.
run_one() {
  local streams=$1 dir port= i
  dir=$(mktemp -d "$WORK/run.XXXXXX")
  mkdir -p "$dir/data" "$dir/streams"
  python3 "$ROOT/bench/bench_util.py" config --apps "$APPS" --domains 150 \
    --write-key "$KEY" --admin-key "bench-a-$KEY" --read-key "bench-r-$KEY" >"$dir/config.json"
  "${BENCH_SERVER_ENV[@]}" "$BIN" --config "$dir/config.json" --data-dir "$dir/data" --host 127.0.0.1 --port 0 \
    2>"$dir/server.log" >/dev/null &
  PID=$!
  for ((i = 0; i < 600; i++)); do
    port=$(listening_port "$dir/server.log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "server $BIN did not start" >&2; exit 1; }
  for ((i = 0; i < streams; i++)); do
    curl -sN -H "Authorization: Bearer bench-r-$KEY" "http://127.0.0.1:$port/api/v1/events" \
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
    "http://127.0.0.1:$port" -- "$KEY" 150 "$APPS" | sed -n 's/^WRKJSON //p')
  stop_streams
  local bytes
  bytes=$(cat "$dir/streams"/* 2>/dev/null | wc -c)
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
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
