#!/usr/bin/env bash
# EPMPulse on PostgreSQL: durable pushes/s and p99 with wrk (post_status.lua's
# bodies, 64 connections in all) for the JSON mode on one instance, then
# PostgreSQL storage with one instance and with two (wrk against both at once,
# the connections split between them, figures summed), then the zero-loss
# check: every 200 saying "applied":true has its row in epm_status_audit, and
# every row its answer (pushes with unique job ids over both instances).
#
#   bash bench/pg.sh [--duration S] [--connections N] [--domains N] [--pool N]
#                    [--rows FILE] [--keep 1]
#
#   --duration S     seconds per run (default 10)
#   --connections N  wrk connections in all, per row (default 64)
#   --domains N      (app, domain) pairs pushed to (default 150)
#   --pool N         settings.storage.pool of each instance (default 2)
#   --rows FILE      also append the rows to FILE (bench/run.sh's table)
#   --keep 1         keep the temp dir (configs, logs, the database)
#
# The database is started the way the tests start theirs: initdb and pg_ctl
# as `nobody` into a temp dir, 127.0.0.1 and an ephemeral port, its socket in
# the temp dir, and stopped at exit. Unlike the tests it runs with fsync on
# and synchronous_commit on: a 200 is on the disk, as in the JSON mode.
# Environment: BENCH_BUILD_DIR (default build/), BENCH_SERVER (the server
# binary), BENCH_TMPDIR (where the data dirs and the database live: a disk).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD=${BENCH_BUILD_DIR:-$ROOT/build}
EPMPULSE=${BENCH_SERVER:-$BUILD/epmpulse}
DURATION=10
CONNECTIONS=64
DOMAINS=150
POOL=2
ROWS=
KEEP=0
case "${1:-}" in -h|--help) sed -n '2,23p' "$0"; exit 0 ;; esac
bench_options "duration connections domains pool rows keep" "$@"

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || bench_die "$tool is missing (make deps installs it)"
done
[ -x "$EPMPULSE" ] || bench_die "$EPMPULSE is not built (cmake --build build --target epmpulse)"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
  bench_die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run scripts/install-deps.sh test"

WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/epmpulse-pg-bench.XXXXXX")
PIDS=()
PG_RUNNING=0
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do bench_stop "$pid"; done
  if [ "$PG_RUNNING" = 1 ]; then bench_pg_stop "$WORK/pg"; fi
  if [ "$KEEP" = 1 ]; then bench_log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(stat -f -c %T "$WORK")" = tmpfs ]; then
  bench_log "warning: $WORK is on tmpfs: fsync costs nothing there; set BENCH_TMPDIR to a disk"
fi

bench_pg_start "$WORK/pg" "$PG_BIN"
PG_RUNNING=1
bench_log "PostgreSQL $(bench_pg_psql "$WORK/pg" 'show server_version') on 127.0.0.1:$PG_PORT:" \
  "fsync=$(bench_pg_psql "$WORK/pg" 'show fsync')," \
  "synchronous_commit=$(bench_pg_psql "$WORK/pg" 'show synchronous_commit')," \
  "pool=$POOL per instance, $CONNECTIONS connections per row, ${DURATION}s per run"

RESULTS=$WORK/rows.jsonl
: >"$RESULTS"

# start NAME [postgres]: a server on its own data dir; sets SERVER_PID, SERVER_URL.
start() {
  local name=$1 storage=${2:-}
  bench_config "$WORK/$name" "$DOMAINS"
  if [ "$storage" = postgres ]; then
    bench_config_storage "$WORK/$name/config.json" "$PG_URL" "$POOL"
  fi
  bench_start_server "$WORK/$name" "$EPMPULSE"
  PIDS+=("$SERVER_PID")
  bench_log "server $name pid $SERVER_PID on $SERVER_URL"
}

audit_rows() { bench_pg_psql "$WORK/pg" 'select count(*) from epm_status_audit'; }

# measure SCENARIO STORAGE URL...: wrk against every URL at once, the
# connections split between them; one row, figures summed (p99: the worst).
measure() {
  local scenario=$1 storage=$2
  shift 2
  local n=$# per=$((CONNECTIONS / $#)) i=0 url before=0 outs=() wrks=()
  [ "$storage" = postgres ] && before=$(audit_rows)
  bench_log "$scenario: wrk -c$per per instance x $n for ${DURATION}s"
  for url in "$@"; do
    i=$((i + 1))
    wrk -t1 -c"$per" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/post_status_counted.lua" \
      "$url" -- "$WRITE_KEY" "$DOMAINS" "$APPS" >"$WORK/$scenario-$i.out" &
    wrks+=($!)
    outs+=("$WORK/$scenario-$i.out")
  done
  for pid in "${wrks[@]}"; do wait "$pid" || true; done
  local after=0
  [ "$storage" = postgres ] && after=$(audit_rows)
  python3 - "$scenario" "$storage" "$POOL" "$before" "$after" "${outs[@]}" >>"$RESULTS" <<'PY'
import json, sys
scenario, storage, pool, before, after = sys.argv[1:6]
runs, acked = [], {"acked": 0, "applied": 0}
for path in sys.argv[6:]:
    for line in open(path):
        if line.startswith("WRKJSON "):
            runs.append(json.loads(line[8:]))
        elif line.startswith("WRKACKED "):
            for k, v in json.loads(line[9:]).items():
                acked[k] += v
row = {"scenario": scenario, "tool": "wrk", "instances": len(sys.argv) - 6, "storage": storage}
if len(runs) != len(sys.argv) - 6:
    row["tool_error"] = "wrk gave no figures"
else:
    row["req_per_s"] = round(sum(r["req_per_s"] for r in runs), 1)
    # Durable pushes: the 200s (each one committed), per second of the run.
    row["pushes_per_s"] = round(sum(r["req_per_s"] * (r["requests"] - r["non_2xx"]) / max(1, r["requests"])
                                    for r in runs), 1)
    row["p50_ms"] = max(r["p50_ms"] for r in runs)
    row["p99_ms"] = max(r["p99_ms"] for r in runs)
    row["errors"] = sum(r["errors"] for r in runs)
    row["non_2xx"] = sum(r["non_2xx"] for r in runs)
row.update(acked)
if storage == "postgres":
    audited = int(after) - int(before)
    row["pool"] = int(pool)
    row["audit_rows"] = audited
    # wrk stops with up to one request per connection in flight: those are
    # committed but never counted, so the audit may hold that many more rows
    # than applied answers, never fewer. The exact check is check_zero_loss.
    row["unanswered_rows"] = audited - acked["applied"]
    row["lost"] = max(0, acked["applied"] - audited)
    row["zero_loss"] = acked["applied"] <= audited
print(json.dumps(row))
PY
  tail -n1 "$RESULTS" >&2
}

start json
measure json_1 json "$SERVER_URL"
bench_stop "$SERVER_PID"; PIDS=()

start pg_a postgres
A_PID=$SERVER_PID A_URL=$SERVER_URL
measure pg_1 postgres "$A_URL"
start pg_b postgres
measure pg_2 postgres "$A_URL" "$SERVER_URL"
# The exact zero-loss check: pushes with unique job ids from 8 threads spread
# over both instances; every job answered "applied":true must be in
# epm_status_audit, and each job id there must have had its answer.
check_zero_loss() {
  local jobs=$WORK/applied_jobs.txt
  bench_log "zero-loss check: 8 threads over both instances for ${DURATION}s"
  python3 - "$DURATION" "$WRITE_KEY" "$DOMAINS" "$APPS" "$@" >"$jobs" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
duration, key, domains, apps = float(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
urls = sys.argv[5:]
applied, lock = [], threading.Lock()
def push(n):
    u = urllib.parse.urlparse(urls[n % len(urls)])
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    end, i = time.time() + duration, 0
    while time.time() < end:
        pair = (n * 7919 + i) % domains
        job = "ZL%d-%d" % (n, i)
        body = json.dumps({"app": apps[pair % len(apps)], "domain": "D%05d" % pair,
                           "status": "Loading" if i % 2 else "OK", "job_id": job})
        conn.request("POST", "/api/v1/status", body, {"Authorization": "Bearer " + key,
                                                      "Content-Type": "application/json"})
        r = conn.getresponse()
        answer = r.read()
        if r.status == 200 and json.loads(answer)["updated"]["applied"]:
            with lock:
                applied.append(job)
        i += 1
threads = [threading.Thread(target=push, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print("\n".join(applied))
PY
  bench_pg_psql "$WORK/pg" "select job_id from epm_status_audit where job_id like 'ZL%'" >"$WORK/audited_jobs.txt"
  python3 - "$jobs" "$WORK/audited_jobs.txt" >>"$RESULTS" <<'PY'
import json, sys
applied = set(l.strip() for l in open(sys.argv[1]) if l.strip())
audited = set(l.strip() for l in open(sys.argv[2]) if l.strip())
row = {"scenario": "pg_2_zero_loss", "tool": "python", "storage": "postgres", "instances": 2,
       "applied": len(applied), "audit_rows": len(audited),
       "lost": len(applied - audited), "unanswered_rows": len(audited - applied)}
row["zero_loss"] = row["lost"] == 0 and row["unanswered_rows"] == 0
print(json.dumps(row))
PY
  tail -n1 "$RESULTS" >&2
}
check_zero_loss "$A_URL" "$SERVER_URL"

for pid in "${PIDS[@]}"; do bench_stop "$pid"; done
PIDS=()

[ -n "$ROWS" ] && cat "$RESULTS" >>"$ROWS"
echo
python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("%-8s %9s %9s %8s %7s %9s %9s %11s" % ("scenario", "pushes/s", "p99 ms", "non-2xx", "pool",
                                             "applied", "audited", "zero loss"))
for r in rows:
    print("%-8s %9s %9s %8s %7s %9s %9s %11s" % (
        r["scenario"], r.get("pushes_per_s", "-"), r.get("p99_ms", "-"), r.get("non_2xx", "-"),
        r.get("pool", "-"), r.get("applied", "-"), r.get("audit_rows", "-"),
        {True: "yes", False: "NO"}.get(r.get("zero_loss"), "-")))
bad = [r["scenario"] for r in rows if r.get("zero_loss") is False or "tool_error" in r]
sys.exit(1 if bad else 0)
PY
