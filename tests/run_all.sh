#!/usr/bin/env bash
# run_all.sh -- every test Monologue has, in the order a failure is cheapest
# to read: C tests, C tests under ASan+UBSan, CLI tests, Python tests,
# comparisons against peers (npm), fuzz smoke runs. `make test` calls this;
# so does .ci/run (through the README's test command).
#
# Environment: MONO_SHARED (default ../shared), FUZZ_SECONDS (default 60),
# MONO_QUICK=1 skips the sanitizer build and shortens fuzzing (local use).
set -euo pipefail
cd "$(dirname "$0")/.."
export MONO_SHARED="${MONO_SHARED:-$(cd .. && pwd)/shared}"
PY=/usr/bin/python3
status=0
step() { echo; echo "=== $*"; }
run() { if ! "$@"; then echo "!!! FAILED: $*"; status=1; fi; }

step "C tests"
run build/test_runner

if [ "${MONO_QUICK:-0}" != 1 ]; then
  step "C tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  run make -s asan
  run env ASAN_OPTIONS=detect_leaks=1 build/asan/test_runner
fi

for t in tests/cli/*.sh; do
  [ -e "$t" ] || continue
  [ "$t" = tests/cli/lib.sh ] && continue   # the scripts' shared prologue, not a test
  step "CLI: $t"
  run bash "$t"
done

if [ -d tests/python ] && ls tests/python/test_*.py >/dev/null 2>&1; then
  step "Python tests"
  run $PY -m pytest -q tests/python
fi

for t in tests/node/*.test.js; do
  [ -e "$t" ] || continue
  step "Node: $t"
  run node "$t"
done

if [ -x fuzz/build.sh ]; then
  step "Fuzz smoke runs"
  run ./fuzz/run_all.sh
fi

echo
if [ $status -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $status
