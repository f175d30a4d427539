#!/usr/bin/env bash
# Installs the Debian packages EPMPulse needs to build, test and benchmark.
# `install-deps.sh test` adds what only `make test` needs (the job-side
# clients' runtimes: groovy, jython as ODI's agents run it; systemd-analyze; chromium and chromedriver for the
# dashboard's browser test; postgresql for the PostgreSQL storage tests);
# `make run` never installs them. `install-deps.sh fuzz` adds clang 14 and its
# runtimes for `make fuzz` (libFuzzer and the sanitizers in libclang-rt-14-dev,
# the standalone libFuzzer in libfuzzer-14-dev); `make test-asan` needs only
# the test profile (GCC's own sanitizer runtimes come with build-essential).
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libcaf-dev                      # C++ Actor Framework 0.17
  librestinio-dev libasio-dev     # RESTinio 0.6 (its package forgets asio)
  libhttp-parser-dev libfmt-dev
  libcurl4-openssl-dev
  libpq-dev                       # settings.storage kind postgres (the binary links libpq)
  libssl-dev                      # HMAC-SHA256: the alert webhook, session cookies and badge tokens
  libboost-test-dev
  nlohmann-json3-dev
  libsimdjson-dev                 # request bodies (http/status_body_reader)
  libjemalloc-dev                 # the allocator (CMakeLists.txt says why)
  zlib1g-dev                      # gzip for GET bodies (actors/body_compressor)
  libsqlite3-dev                  # the history of changes (actors/history)
  libspdlog-dev libcli11-dev
  libhowardhinnant-date-dev
  tzdata                          # display time zones (date/tz.h reads /usr/share/zoneinfo)
  wrk                             # make bench
)
test_packages=(
  groovy default-jre-headless     # integrations/groovy and its tests (default-java is the JVM groovy looks for)
  systemd                         # systemd-analyze verify deploy/epmpulse.service
  python3 curl                    # integrations/ clients and their tests
  jq                              # the shell notifier's test reads answers with it
  jython                          # integrations/python under Jython 2.7 (ODI agents)
  chromium chromium-driver        # tests/browser: the dashboard in headless chromium over WebDriver
  postgresql                      # tests/integration/pg_*: initdb and pg_ctl start a PostgreSQL in a temp dir
)
fuzz_packages=(
  clang-14 libclang-rt-14-dev libfuzzer-14-dev   # make fuzz (tests/fuzz/)
)
case "${1:-}" in
  test) packages+=("${test_packages[@]}") ;;
  fuzz) packages+=("${fuzz_packages[@]}") ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
