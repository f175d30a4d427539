#!/usr/bin/env bash
# Runs each libFuzzer target of a fuzz build (make fuzz) for SECONDS seconds,
# starting from the checked-in corpus and regressions. New inputs go to
# <build>/corpus/<target>, never into the repository. A crash, a sanitizer
# report or a broken invariant stops the run: the input is kept under
# <build>/artifacts/<target>/ and its path printed.
set -uo pipefail
build="$1"
seconds="${2:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
targets=(status_body config_loader change_log epm_answer)
failed=()
for target in "${targets[@]}"; do
  work="$build/corpus/$target"
  artifacts="$build/artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  echo "fuzz: $target for ${seconds}s"
  log="$build/fuzz-$target.log"
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    "$build/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts" \
      "$work" "$here/corpus/$target" "$here/regressions/$target" >"$log" 2>&1
  rc=$?
  grep -E '^(stat::number_of_executed_units|stat::new_units_added)|^#[0-9]+ +DONE' "$log" | sed "s/^/  /"
  if [ $rc -ne 0 ]; then
    tail -n 60 "$log"
    crash=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/Test unit written to //')
    echo "fuzz: $target FAILED (exit $rc); input: ${crash:-see $log}" >&2
    echo "  reproduce: $build/fuzz_$target ${crash:-<input>}" >&2
    echo "  keep it as a regression: cp ${crash:-<input>} tests/fuzz/regressions/$target/" >&2
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each, no crash, no broken invariant"
