#!/usr/bin/env bash
# deploy.install: `cmake --install` into a temporary DESTDIR (what
# `make install DESTDIR=... PREFIX=/usr/local` runs) puts every file in its
# place, and the installed binary accepts the installed sample configuration.
set -euo pipefail
build_dir=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail() { echo "deploy.install: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build_dir" --prefix /usr/local >"$stage.log" 2>&1 \
  || { cat "$stage.log" >&2; rm -f "$stage.log"; fail "cmake --install failed"; }
rm -f "$stage.log"
root=$stage/usr/local

for f in bin/epmpulse share/epmpulse/apps.json.sample share/epmpulse/epmpulse.env.sample \
         share/epmpulse/integrations/groovy/epmpulse_rule.groovy \
         share/epmpulse/integrations/groovy/EpmPulseClient.groovy \
         share/doc/epmpulse/README.md share/doc/epmpulse/deployment.md \
         lib/systemd/system/epmpulse.service lib/sysusers.d/epmpulse.conf; do
  [ -e "$root/$f" ] || fail "missing after install: /usr/local/$f"
done
[ -x "$root/bin/epmpulse" ] || fail "bin/epmpulse is not executable"
[ ! -e "$root/share/epmpulse/integrations/groovy/tests" ] || fail "the clients' tests were installed"

unit=$root/lib/systemd/system/epmpulse.service
grep -qx 'ExecStart=/usr/local/bin/epmpulse --config /etc/epmpulse/apps.json --data-dir /var/lib/epmpulse' "$unit" \
  || fail "the installed unit does not start /usr/local/bin/epmpulse: $(grep '^ExecStart=' "$unit")"
grep -q "$stage" "$unit" && fail "the installed unit names the DESTDIR staging path"

# The sample's keys are ${VAR} placeholders: with them set, as the env file
# sets them under systemd, the sample is a valid configuration with 4 keys.
out=$(env -i PATH=/usr/bin:/bin \
  EPMPULSE_KEY_GROOVY=install-test-groovy-key-0123456789 \
  EPMPULSE_KEY_ODI=install-test-odi-key-0123456789ab \
  EPMPULSE_KEY_ADMIN=install-test-admin-key-0123456789 \
  EPMPULSE_KEY_READ=install-test-read-key-0123456789a \
  "$root/bin/epmpulse" --config "$root/share/epmpulse/apps.json.sample" --check-config 2>&1) \
  || fail "--check-config rejected the installed sample: $out"
case "$out" in
  *"is valid"*"4 API keys"*) ;;
  *) fail "--check-config did not report a valid sample with 4 keys: $out" ;;
esac
"$root/bin/epmpulse" --version | grep -q . || fail "--version printed nothing"
echo "deploy.install: ok ($out)"
