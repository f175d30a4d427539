#!/usr/bin/env bash
# Before/after comparison of two server binaries on a noisy machine: the same
# wrk scenario runs on A and B turn about (A B, B A, A B, ...) so both see the
# same machine weather, and the median of the paired B/A ratios is reported.
# (Two whole `make bench` runs minutes apart differed by 2x on this VM for
# the same binary; interleaving is what makes a before/after figure honest.)
#
#   bash bench/ab.sh A_BINARY B_BINARY [--rounds 5] [--duration 4]
#                    [--scenarios post_150,batch_150,post_1000,get_1000]
#
# Scenarios: single POSTs and batches of 10 at 3 x 50 domains, single POSTs
# and GET /api/v1/status at 3 x 1,000 domains; 64 connections, wrk -t2.
# Prints one JSON line per scenario and a table. Loopback only; everything it
# starts it stops. Needs wrk and python3 (scripts/install-deps.sh).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
[ $# -ge 2 ] || { sed -n '2,14p' "$0"; exit 2; }
A=$(realpath "$1")
B=$(realpath "$2")
shift 2
ROUNDS=5
DURATION=4
SCENARIOS=post_150,batch_150,post_1000,get_1000
bench_options "rounds duration scenarios" "$@"

WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/epmpulse-ab.XXXXXX")
trap 'bench_stop "$SERVER_PID"; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# run_one binary domains lua: starts the binary on a fresh data dir, runs wrk,
# prints wrk's JSON line, stops the server.
run_one() {
  local bin=$1 domains=$2 script=$3 dir
  dir=$(mktemp -d "$WORK/run.XXXXXX")
  bench_config "$dir" "$domains"
  bench_start_server "$dir" "$bin"
  # GET scenarios read the key given to the Lua script: the read key.
  local key=$WRITE_KEY
  [ "$script" = get_status.lua ] && key=$READ_KEY
  wrk -t2 -c64 -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/$script" \
    "$SERVER_URL" -- "$key" "$domains" "$APPS" | sed -n 's/^WRKJSON //p'
  bench_stop "$SERVER_PID"
  SERVER_PID=
  rm -rf "$dir"
}

RESULTS=$WORK/results.jsonl
: >"$RESULTS"
for scenario in "post_150 150 post_status.lua" "batch_150 150 post_batch.lua" \
                "post_1000 1000 post_status.lua" "get_1000 1000 get_status.lua"; do
  read -r name domains script <<<"$scenario"
  [[ ",$SCENARIOS," == *",$name,"* ]] || continue
  for ((round = 1; round <= ROUNDS; round++)); do
    # ABBA order: the second run of a pair came out ~5% slower in an A/A
    # check (same binary twice), so the order alternates.
    order="A B"
    ((round % 2 == 0)) && order="B A"
    for side in $order; do
      bin=$A
      [ "$side" = B ] && bin=$B
      line=$(run_one "$bin" "$domains" "$script")
      echo "{\"scenario\":\"$name\",\"side\":\"$side\",\"round\":$round,\"wrk\":$line}" | tee -a "$RESULTS" >&2
    done
  done
done

python3 - "$RESULTS" "$A" "$B" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"A = {sys.argv[2]}\nB = {sys.argv[3]}\n")
print("| scenario | A req/s (median) | B req/s (median) | B/A (median of paired rounds) | A p50 ms | B p50 ms | failed answers A / B |")
print("|---|---|---|---|---|---|---|")
# A fast wrong answer must not pass for speed: socket errors and non-2xx count.
failed = lambda side: sum(v.get("errors", 0) + v.get("non_2xx", 0) for v in side.values())
for name in dict.fromkeys(r["scenario"] for r in rows):
    a = {r["round"]: r["wrk"] for r in rows if r["scenario"] == name and r["side"] == "A"}
    b = {r["round"]: r["wrk"] for r in rows if r["scenario"] == name and r["side"] == "B"}
    pairs = [b[k]["req_per_s"] / a[k]["req_per_s"] for k in a if k in b and a[k]["req_per_s"]]
    med = lambda side, key: statistics.median(v[key] for v in side.values())
    print(f"| {name} | {med(a, 'req_per_s'):.0f} | {med(b, 'req_per_s'):.0f} | "
          f"{statistics.median(pairs):.2f} | {med(a, 'p50_ms'):.2f} | {med(b, 'p50_ms'):.2f} | "
          f"{failed(a)} / {failed(b)} |")
    print(json.dumps({"scenario": name, "a_req_per_s": [a[k]["req_per_s"] for k in sorted(a)],
                      "b_req_per_s": [b[k]["req_per_s"] for k in sorted(b)],
                      "b_over_a_median": round(statistics.median(pairs), 3)}), file=sys.stderr)
EOF
