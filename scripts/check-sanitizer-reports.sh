#!/usr/bin/env bash
# Fails when any process of a sanitizer test run wrote a report
# (ASAN_OPTIONS/UBSAN_OPTIONS log_path=<dir>/...): the test binaries and the
# servers the integration tests start, whose reports no test reads.
set -euo pipefail
dir="$1"
shopt -s nullglob
reports=("$dir"/*)
if [ ${#reports[@]} -eq 0 ]; then
  echo "sanitizers: no reports"
  exit 0
fi
for r in "${reports[@]}"; do
  echo "==== $r"
  cat "$r"
done
echo "sanitizers: ${#reports[@]} report(s) in $dir" >&2
exit 1
