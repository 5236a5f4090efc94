#!/usr/bin/env bash
# run_all.sh -- builds the fuzz targets and runs each for FUZZ_SECONDS
# (default 60; MONO_QUICK=1 makes it 5) from its seed corpus. Any crash,
# leak or sanitizer report fails the run; the reproducer is left in build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
./fuzz/build.sh >/dev/null
secs=${FUZZ_SECONDS:-60}
[ "${MONO_QUICK:-0}" = 1 ] && secs=5
fail=0
for bin in build/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  seeds=fuzz/corpus/${name#fuzz_}
  work=build/fuzz/work_${name#fuzz_}
  mkdir -p "$work"
  dicts=""; [ -f "fuzz/${name#fuzz_}.dict" ] && dicts="-dict=fuzz/${name#fuzz_}.dict"
  echo "fuzzing $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
       -artifact_prefix=build/fuzz/ $dicts "$work" $( [ -d "$seeds" ] && echo "$seeds" ) \
       > "build/fuzz/$name.log" 2>&1; then
    echo "!!! $name found a problem:"; tail -40 "build/fuzz/$name.log"; fail=1
  fi
done
exit $fail
