#!/usr/bin/env bash
# deploy.unit_verify: the unit `make install` writes passes
# `systemd-analyze verify` with no error and no warning (an unknown or
# misspelt directive is only a warning there, so any output fails the test).
# The install goes into a temporary prefix so the unit's ExecStart names a
# binary that exists, as verify requires.
set -euo pipefail
build_dir=$1
command -v systemd-analyze >/dev/null \
  || { echo "deploy.unit_verify: systemd-analyze missing: bash scripts/install-deps.sh test" >&2; exit 1; }
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
unit=$prefix/lib/systemd/system/epmpulse.service
grep -qx "ExecStart=$prefix/bin/epmpulse --config /etc/epmpulse/apps.json --data-dir /var/lib/epmpulse" "$unit" \
  || { echo "deploy.unit_verify: ExecStart does not follow the prefix: $(grep '^ExecStart=' "$unit")" >&2; exit 1; }
set +e
out=$(systemd-analyze verify "$unit" 2>&1)
rc=$?
set -e
if [ $rc -ne 0 ] || [ -n "$out" ]; then
  echo "deploy.unit_verify: systemd-analyze verify exited $rc:" >&2
  echo "$out" >&2
  exit 1
fi
# The hardening the unit promises is in the file systemd read.
for d in 'User=epmpulse' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
         'PrivateTmp=yes' 'ReadWritePaths=/var/lib/epmpulse' 'StateDirectory=epmpulse' \
         'EnvironmentFile=-/etc/epmpulse/epmpulse.env' 'ExecReload=/bin/kill -HUP $MAINPID' \
         'Restart=on-failure'; do
  grep -qxF "$d" "$unit" || { echo "deploy.unit_verify: $d missing" >&2; exit 1; }
done
echo "deploy.unit_verify: ok"
