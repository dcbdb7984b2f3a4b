#!/usr/bin/env bash
# Builds everything and runs every test, in two builds:
#
# 1. Release (build/, the default compiler): unit tests per layer, HTTP
#    tests against the real server on 127.0.0.1, the kill -9 durability
#    test, and the TM Forum conformance kit (shared/ctk) against a fresh
#    service.
# 2. clang with AddressSanitizer and UndefinedBehaviorSanitizer
#    (build-sanitize/, -O1): the unit and service tests again -- not the
#    conformance kit, which run 1 covers -- then each libFuzzer target for
#    TMF_FUZZ_SECONDS (default 60) seconds.
#
# Ends with one line in ctest's wording summing the tests of both builds,
# and exits non-zero when any failed (failing tests in one build do not
# stop the other; a build that does not compile stops the script).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

passed=0
failed=0
# Adds the counts of ctest's summary line in the file $1 (a run without one
# counts as one failed test).
count() {
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+$' \
    "$1" | tail -n 1 || true)
  if [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  else
    failed=$((failed + 1))
  fi
}
# Runs ctest in the build tree $1 with the arguments that follow, showing
# its output, and adds its counts.
run_ctest() {
  local dir=$1 log
  shift
  log=$(mktemp)
  (cd "$dir" && ctest "$@") 2>&1 | tee "$log" || true
  count "$log"
  rm -f "$log"
}

# 1. Release.
scripts/build.sh
run_ctest build --output-on-failure -j "$(nproc)" --timeout 600

# 2. Sanitizers and fuzzing.
cmake -S . -B build-sanitize -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  -DTMF_SANITIZERS=address,undefined -DTMF_FUZZ=ON -DTMF_WERROR=ON \
  -DTMF_BUILD_BENCH=OFF >/dev/null
cmake --build build-sanitize -j "$(nproc)"
run_ctest build-sanitize --output-on-failure -j "$(nproc)" --timeout 600 \
  -LE '^(ctk|fuzz)$'
run_ctest build-sanitize --output-on-failure -j "$(nproc)" -L '^fuzz$'

# ctest's own wording and rounding (never 100% with a failure).
total=$((passed + failed))
percent=0
if [ "$total" -gt 0 ]; then
  percent=$(((passed * 100 + total / 2) / total))
fi
if [ "$failed" -gt 0 ] && [ "$percent" -gt 99 ]; then
  percent=99
fi
echo
echo "${percent}% tests passed, ${failed} tests failed out of ${total}"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
