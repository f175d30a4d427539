# Shared by the bench scripts (sourced, not run): the server's environment,
# keys, starting and stopping a server, option parsing.

# The server's environment: nothing from the caller's Slack or key settings.
BENCH_SERVER_ENV=(env -u SLACK_API_URL -u SLACK_BOT_TOKEN -u EPMPULSE_API_KEY -u EPMPULSE_ADMIN_KEY
                  -u EPMPULSE_CONFIG -u EPMPULSE_DATA_DIR -u EPMPULSE_HOST -u EPMPULSE_PORT
                  -u EPMPULSE_DATABASE_URL)

BENCH_NAME=$(basename "$0")
bench_log() { printf '[%s %s] %s\n' "${BENCH_NAME%.sh}" "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# bench_options "name ..." ARGS...: each `--name VALUE` in ARGS sets the
# variable NAME (upper case, '-' as '_'), for the names listed only; anything
# else ends the script with its usage error.
bench_options() {
  local allowed=" $1 " name var
  shift
  while [ $# -gt 0 ]; do
    name=${1#--}
    if [[ $1 != --* || $allowed != *" $name "* || $# -lt 2 ]]; then
      echo "$BENCH_NAME: unknown option or missing value: $1" >&2
      exit 2
    fi
    var=${name^^}
    printf -v "${var//-/_}" '%s' "$2"
    shift 2
  done
}

# Fresh random keys per run (nothing to leak), the bench's three apps.
bench_rand_key() { python3 -c 'import secrets; print(secrets.token_hex(20))'; }
WRITE_KEY=bench-w-$(bench_rand_key)
READ_KEY=bench-r-$(bench_rand_key)
ADMIN_KEY=bench-a-$(bench_rand_key)
APPS=Planning,FCCS,ARCS

# bench_config DIR DOMAINS [bench_util.py config options...]: DIR/config.json
# with the bench's keys and apps.
bench_config() {
  local dir=$1 domains=$2
  shift 2
  mkdir -p "$dir"
  python3 "$ROOT/bench/bench_util.py" config --apps "$APPS" --domains "$domains" \
    --write-key "$WRITE_KEY" --admin-key "$ADMIN_KEY" --read-key "$READ_KEY" "$@" >"$dir/config.json"
}

# listening_port LOG: the port from the server's "listening" log line, or
# nothing while it has not started. The line carries its fields before its
# message: find the line, then the port.
listening_port() {
  grep '"message":"listening"' "$1" 2>/dev/null | sed -n 's/.*"port":\([0-9][0-9]*\).*/\1/p' | head -n1 || true
}

# bench_start_server DIR COMMAND...: runs COMMAND (a server binary, or a
# wrapper such as valgrind followed by it) on DIR/config.json and DIR/data,
# 127.0.0.1 and an ephemeral port, its log in DIR/server.log. Sets SERVER_PID
# and SERVER_URL once it listens; ends the script if it exits first or has
# not listened within BENCH_START_SECONDS (default 120).
SERVER_PID=
SERVER_URL=
bench_start_server() {
  local dir=$1 port= i
  shift
  mkdir -p "$dir/data"
  "${BENCH_SERVER_ENV[@]}" "$@" --config "$dir/config.json" --data-dir "$dir/data" \
    --host 127.0.0.1 --port 0 2>"$dir/server.log" >/dev/null &
  SERVER_PID=$!
  for ((i = 0; i < ${BENCH_START_SECONDS:-120} * 10; i++)); do
    port=$(listening_port "$dir/server.log")
    [ -n "$port" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -n 20 "$dir/server.log" >&2
      SERVER_PID=
      bench_die "server $* exited at start-up"
    fi
    sleep 0.1
  done
  if [ -z "$port" ]; then
    bench_stop "$SERVER_PID"
    SERVER_PID=
    bench_die "server $* did not report its port within ${BENCH_START_SECONDS:-120} s"
  fi
  SERVER_URL=http://127.0.0.1:$port
}

# bench_stop PID: SIGTERM, up to 30 s for a clean exit, then SIGKILL.
bench_stop() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# -- PostgreSQL (bench/pg.sh) -----------------------------------------------------

# bench_pg_start DIR BIN: a PostgreSQL of its own, as the tests start theirs:
# initdb and pg_ctl (from BIN) as `nobody` into DIR, 127.0.0.1 and an
# ephemeral port, the socket in DIR, a random password; but fsync and
# synchronous_commit on (what a 200 costs in production). Sets PG_PORT and
# PG_URL (a secret: it goes into config files, never into a log line).
PG_PORT=
PG_URL=
bench_pg_as() { runuser -u nobody -- sh -c "$1"; }
bench_pg_start() {
  local dir=$1 bin=$2 password
  password=pgpw-$(bench_rand_key)
  mkdir -p "$dir"
  chmod 0711 "$(dirname "$dir")"
  chown nobody "$dir"
  printf '%s' "$password" >"$dir/password"
  chmod 0600 "$dir/password"
  chown nobody "$dir/password"
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  bench_pg_as "$bin/initdb -D '$dir/data' -U epmpulse -A scram-sha-256 --pwfile='$dir/password' -E UTF8" \
    >"$dir/initdb.log" 2>&1 || { tail -n 20 "$dir/initdb.log" >&2; bench_die "initdb failed"; }
  bench_pg_as "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -t 60 -o \
    '-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir -c fsync=on -c synchronous_commit=on' start" \
    >/dev/null || { tail -n 20 "$dir/server.log" >&2; bench_die "PostgreSQL did not start"; }
  echo "$bin" >"$dir/bin"
  PG_URL="postgresql://epmpulse:$password@127.0.0.1:$PG_PORT/postgres"
}

# bench_pg_stop DIR: pg_ctl stop -m fast.
bench_pg_stop() {
  bench_pg_as "$(cat "$1/bin")/pg_ctl -D '$1/data' -m fast -w -t 60 stop" >/dev/null 2>&1 || true
}

# bench_pg_psql DIR SQL: one SQL command's unaligned output (the password
# through the environment, never on a command line).
bench_pg_psql() {
  bench_pg_as "PGPASSWORD=\$(cat '$1/password') $(cat "$1/bin")/psql -X -A -t -q -h 127.0.0.1 \
    -p $PG_PORT -U epmpulse -d postgres -c \"$2\""
}

# bench_config_storage FILE URL POOL: settings.storage of a bench config set
# to that database (the file is the caller's temp dir, mode 0600).
bench_config_storage() {
  python3 - "$@" <<'PY'
import json, os, sys
path, url, pool = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path) as f:
    cfg = json.load(f)
cfg["settings"]["storage"] = {"kind": "postgres", "url": url, "pool": pool}
with open(path, "w") as f:
    json.dump(cfg, f, indent=1)
os.chmod(path, 0o600)
PY
}
