#!/usr/bin/env bash
# Tests of epmpulse-notify (ctest: clients.shell). Real pushes go to
# build/epmpulse on a free loopback port and are read back with GET
# /api/v1/status; retries, a held request (to read curl's argv in /proc) and
# a refused port come from integrations/python/tests/pulse_test_support.py
# run by python3, started together at the beginning (each python3 start takes
# a second on a busy machine); answers are read with jq, which starts in
# milliseconds. Server and notifier output go to $EPMPULSE_TEST_LOG_DIR
# (build/test-logs) with the keys registered, for the secrets scan.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
NOTIFY=$HERE/../epmpulse-notify
SUPPORT=$ROOT/integrations/python/tests/pulse_test_support.py
BINARY=${EPMPULSE_BINARY:-$ROOT/build/epmpulse}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/epmpulse-notify-test.XXXXXX")
LOG_DIR=${EPMPULSE_TEST_LOG_DIR:-$WORK/logs}
mkdir -p "$LOG_DIR"
NOTIFY_LOG=$LOG_DIR/clients-shell-$$-notify.log
SERVER_LOG=$LOG_DIR/clients-shell-$$-server-stderr.log
PIDS=()
FAILURES=0
CHECKS=0

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The environment the notifier sees: nothing from the caller's EPMPulse settings.
unset EPMPULSE_URL EPMPULSE_API_KEY EPMPULSE_API_KEY_FILE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
export PYTHONDONTWRITEBYTECODE=1

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then
    printf 'ok   %s\n' "$what"
  else
    printf 'FAIL %s\n' "$what"
    FAILURES=$((FAILURES + 1))
  fi
}
equals() { [ "$1" = "$2" ] || { printf '     expected [%s]\n     got      [%s]\n' "$2" "$1"; return 1; }; }
matches() { [[ $1 =~ $2 ]] || { printf '     [%s] does not match /%s/\n' "$1" "$2"; return 1; }; }
lacks() { [[ $1 != *"$2"* ]] || { printf '     holds what it must not\n'; return 1; }; }

# wait_for DEADLINE_SEC COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.02
  done
}

random_key() { printf '%s%s' "$1" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"; }
register_secret() { printf '"%s"\n' "$1" >>"$LOG_DIR/secrets-$$.jsonl"; }

# notify ARGS...: the notifier with the real server's URL and write key;
# its stderr is kept in $WORK/stderr and appended to the scanned log.
notify() {
  EPMPULSE_URL=$URL EPMPULSE_API_KEY=$WRITE_KEY "$NOTIFY" "$@" 2>"$WORK/stderr"
  local rc=$?
  cat "$WORK/stderr" >>"$NOTIFY_LOG"
  return $rc
}

# field APP DOMAIN FIELD: one field of the domain as GET /api/v1/status shows
# it ("null" when missing); an app that is not there fails.
field() {
  printf 'header = "Authorization: Bearer %s"\n' "$READ_KEY" |
    curl --config - -sS --max-time 5 "$URL/api/v1/status" |
    jq -j -e --arg app "$1" --arg domain "$2" --arg field "$3" \
      '.apps[$app] | objects | (.[$domain][$field] | if . == null then "null" else . end)'
}

# launch_python_helper ARGS...: runs pulse_test_support.py ARGS in the
# background; it writes its port to the file ARGS name. (Not in a $(...):
# the helper would hold the substitution's pipe open.)
launch_python_helper() {
  python3 "$SUPPORT" "$@" </dev/null >/dev/null &
  PIDS+=($!)
}

launch_standin() { # launch_standin NAME SCRIPT_JSON
  launch_python_helper standin "$WORK/$1.port" "$WORK/$1.jsonl" "$2"
}

# helper_port NAME: sets PORT to the port helper NAME wrote to $WORK/NAME.port.
helper_port() {
  wait_for 15 test -s "$WORK/$1.port" || { echo "$1 did not start" >&2; exit 1; }
  PORT=$(tr -d '\n' <"$WORK/$1.port")
}

# requests NAME: the number of requests a stand-in has recorded.
requests() { [ -f "$WORK/$1.jsonl" ] && wc -l <"$WORK/$1.jsonl" | tr -d ' ' || echo 0; }

# -- the stand-ins (started at once, used further down) ---------------------------

launch_standin held '[{"hold": true}]'
launch_standin flaky '[{"status": 503, "body": {}}, {"status": 429, "headers": {"Retry-After": "1"}}, {"status": 200}]'
launch_standin refusing '[{"status": 400, "body": {"success": false, "error": {"code": "INVALID_APP"}}}]'
launch_python_helper refused "$WORK/down.port"

# -- the real server ------------------------------------------------------------

WRITE_KEY=$(random_key shell-test-write-)
READ_KEY=$(random_key shell-test-read-)
register_secret "$WRITE_KEY"
register_secret "$READ_KEY"
mkdir -m 700 "$WORK/data"
cat >"$WORK/apps.json" <<EOF
{"apps": {"Planning": {"domains": ["Actual"], "channels": []},
          "FCCS": {"domains": ["Consolidation"], "channels": []}},
 "channels": {},
 "api_keys": [{"name": "shell_write", "key": "$WRITE_KEY", "role": "write"},
              {"name": "shell_read", "key": "$READ_KEY", "role": "read"}],
 "settings": {"log_level": "info", "rate_limits": {"enabled": false}}}
EOF
chmod 600 "$WORK/apps.json"
[ -x "$BINARY" ] || { echo "server binary not found: $BINARY" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq not found: run scripts/install-deps.sh test" >&2; exit 1; }
env -i PATH="$PATH" HOME="${HOME:-/tmp}" "$BINARY" --config "$WORK/apps.json" --data-dir "$WORK/data" \
  --host 127.0.0.1 --port 0 </dev/null >/dev/null 2>"$SERVER_LOG" &
PIDS+=($!)
# The "listening" line names the port in its fields (bench/lib.sh reads it the same way).
server_port() { grep '"message":"listening"' "$SERVER_LOG" 2>/dev/null | sed -n 's/.*"port":\([0-9][0-9]*\).*/\1/p' | head -n1; }
server_listening() { [ -n "$(server_port)" ]; }
wait_for 10 server_listening || { echo "epmpulse did not start:" >&2; cat "$SERVER_LOG" >&2; exit 1; }
URL=http://127.0.0.1:$(server_port)

# -- status ---------------------------------------------------------------------------

notify status Planning Actual Loading --job-id SH_1 --message 'nightly load'
check "status exits 0" equals "$?" 0
check "status arrives" equals "$(field Planning Actual status)/$(field Planning Actual job_id)/$(field Planning Actual message)" "Loading/SH_1/nightly load"

notify status Planning Actual Done
check "an unknown STATUS is a usage error" equals "$?" 2

# -- run --------------------------------------------------------------------------------

out=$(notify run Planning RunOk --job-id SH_RUN_OK -- sh -c 'echo job output; exit 0')
check "run exits with the command's 0" equals "$?" 0
check "run passes the command's output through" equals "$out" "job output"
check "run ends OK" equals "$(field Planning RunOk status)" OK
check "OK says how long it took" matches "$(field Planning RunOk message)" '^completed in [0-9]+s$'
check "the server measured the job (same job id)" matches "$(field Planning RunOk duration_sec)" '^[0-9]+$'

# The command sees its own Loading, then fails after at least a second.
export -f field
export URL READ_KEY
notify run FCCS Consolidation --job-id SH_RUN_3 -- \
  bash -c 'field FCCS Consolidation status >"$1"; sleep 1; exit 3' job "$WORK/seen-while-running"
check "run exits with the command's 3" equals "$?" 3
check "Loading while the command runs" equals "$(cat "$WORK/seen-while-running")" Loading
check "run ends Warning" equals "$(field FCCS Consolidation status)" Warning
check "Warning names the exit code and the run time" matches \
  "$(field FCCS Consolidation message)" '^bash failed: exit code 3 after [1-9][0-9]*s$'

notify run Planning Stdin -- sh -c 'read line; test "$line" = piped' <<<"piped"
check "the command keeps its stdin" equals "$?" 0

notify run Planning Missing -- /nonexistent/command
check "a command that cannot start exits 127" equals "$?" 127
check "... and is a Warning" matches "$(field Planning Missing message)" 'exit code 127'

notify run Planning -- sh -c 'exit 4'
check "run with a bad notify usage still runs the command" equals "$?" 4

# -- escaping ---------------------------------------------------------------------------

tricky=$'say "hi" \\ back\\slash\nline two\ttab caf\u00e9 \u20ac \U0001F680 bell\a end'
notify status Planning Escapes OK --message "$tricky" --job-id 'job "quoted" \ id'
check "a message with quotes, backslashes, newline and unicode is accepted" equals "$?" 0
check "... and arrives as it was (control characters as spaces)" equals \
  "$(field Planning Escapes message)" "${tricky/$'\a'/ }"
check "a job id with quotes and a backslash arrives" equals "$(field Planning Escapes job_id)" 'job "quoted" \ id'

long=$(printf 'é%.0s' $(seq 1 300))
notify status Planning Long Warning --message "$long"
check "a 300-character message is cut to fit" equals "$(field Planning Long message)" "$(printf 'é%.0s' $(seq 1 199))…"

# -- the key ------------------------------------------------------------------------------

printf '%s\n' "$WRITE_KEY" >"$WORK/key"
chmod 600 "$WORK/key"
"$NOTIFY" status Planning KeyFile OK --url "$URL" --key-file "$WORK/key" 2>>"$NOTIFY_LOG"
check "the key from --key-file" equals "$(field Planning KeyFile status)" OK

EPMPULSE_URL=$URL EPMPULSE_API_KEY_FILE=$WORK/key "$NOTIFY" status Planning KeyFileEnv OK 2>>"$NOTIFY_LOG"
check "the key from EPMPULSE_API_KEY_FILE" equals "$(field Planning KeyFileEnv status)" OK

helper_port held
held=$PORT
EPMPULSE_API_KEY=$WRITE_KEY "$NOTIFY" status Planning Actual OK --url "http://127.0.0.1:$held" \
  --timeout 20 2>>"$NOTIFY_LOG" &
notify_pid=$!
held_arrived() { [ "$(requests held)" = 1 ]; }
check "the held request arrived" wait_for 10 held_arrived
# read_nul_separated FILE: sets ARGS to the NUL-separated words of FILE (a
# process's cmdline or environ), without a process per file: the scans below
# read every process of a machine that may run hundreds.
read_nul_separated() {
  ARGS=()
  { mapfile -d '' -t ARGS <"$1"; } 2>/dev/null
}
curl_pid=
every_cmdline=
for proc in /proc/[0-9]*; do
  read_nul_separated "$proc/cmdline"
  every_cmdline+="${ARGS[*]}"$'\n'
  [[ "${ARGS[*]}" == "curl "*"127.0.0.1:$held/api/v1/status"* ]] && curl_pid=${proc#/proc/}
done
check "curl is found while it waits" test -n "$curl_pid"
check "the key is not in curl's arguments" lacks "$(tr '\0' ' ' <"/proc/$curl_pid/cmdline")" "$WRITE_KEY"
check "nor in curl's environment" lacks "$(tr '\0' '\n' <"/proc/$curl_pid/environ")" "$WRITE_KEY"
check "nor in any process's arguments" lacks "$every_cmdline" "$WRITE_KEY"
check "the key reached the server in the header" grep -q "\"authorization\": \"Bearer $WRITE_KEY\"" "$WORK/held.jsonl"
curl -sS "http://127.0.0.1:$held/release" >/dev/null
wait "$notify_pid"
check "the held push then succeeds" equals "$?" 0

"$NOTIFY" status Planning Actual OK --url "$URL" --key "$WRITE_KEY" 2>>"$NOTIFY_LOG"
check "--key on the command line is refused" equals "$?" 2

# -- retries ----------------------------------------------------------------------------

helper_port flaky
flaky=$PORT
notify status Planning Actual OK --url "http://127.0.0.1:$flaky"
check "503 then 429 then 200 succeeds" equals "$?" 0
check "... in three requests" equals "$(requests flaky)" 3
# recorded NAME FILTER: FILTER holds of the list of requests NAME recorded.
recorded() { jq -s -e "$2" "$WORK/$1.jsonl" >/dev/null; }
check "... waiting Retry-After's second before the third" recorded flaky '.[2].time - .[1].time >= 0.95'
check "... sending the same body each time" equals "$(jq -s 'map(.body) | unique | length' "$WORK/flaky.jsonl")" 1

helper_port refusing
refusing=$PORT
notify status Planning Actual OK --url "http://127.0.0.1:$refusing"
check "a 400 exits 0" equals "$?" 0
check "... is not retried" equals "$(requests refusing)" 1
check "... and is reported" grep -q 'HTTP 400.*INVALID_APP' "$WORK/stderr"

# -- server down ---------------------------------------------------------------------------

helper_port down
DOWN_URL=http://127.0.0.1:$PORT
notify run Planning Actual --url "$DOWN_URL" --retries 1 -- sh -c 'exit 0'
check "server down: run still exits 0" equals "$?" 0
check "... saying the pushes were not confirmed" grep -q 'not confirmed after 2 attempt' "$WORK/stderr"
notify run Planning Actual --url "$DOWN_URL" --retries 0 -- sh -c 'exit 3'
check "server down: run still exits with the command's 3" equals "$?" 3
notify status Planning Actual OK --url "$DOWN_URL" --retries 0
check "server down: status exits 0" equals "$?" 0
notify status Planning Actual OK --url "$DOWN_URL" --retries 0 --strict
check "server down: status --strict exits 1" equals "$?" 1
notify run Planning Actual --url "$DOWN_URL" --retries 0 --strict -- touch "$WORK/ran"
check "server down: run --strict exits 1 ..." equals "$?" 1
check "... without running the command" test ! -e "$WORK/ran"
EPMPULSE_API_KEY= EPMPULSE_URL=$URL "$NOTIFY" run Planning Actual -- sh -c 'exit 0' 2>"$WORK/stderr"
check "no key: run still runs and exits 0" equals "$?" 0
check "... saying what is missing" grep -q 'no API key' "$WORK/stderr"

check "the notifier never printed the key" lacks "$(cat "$NOTIFY_LOG")" "$WRITE_KEY"

echo "$((CHECKS - FAILURES))/$CHECKS checks passed"
[ "$FAILURES" = 0 ]
