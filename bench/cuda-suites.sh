#!/bin/bash
# The CUDA parity suite on a machine with a GPU: every test binary's CUDA
# suites (*Cuda*, *Backend*: the op-by-op checks against the CPU), one line per binary.
#   bench/cuda-suites.sh [BUILD_DIR]    (default build-dev)
# Exit status: the number of binaries with a failure.
cd "$(dirname "$0")/.."
B=${1:-build-dev}
fails=0
for t in $B/test-*; do
  [ -x "$t" ] || continue
  n=$("$t" --gtest_list_tests --gtest_filter='*Cuda*:*Backend*' 2>/dev/null | grep -c '^  ')
  [ "$n" -gt 0 ] || continue
  t0=$(date +%s%N)
  out=$(timeout 300 "$t" --gtest_filter='*Cuda*:*Backend*' --gtest_brief=1 2>&1)
  rc=$?
  printf "%-22s %4d tests %7d ms  %s\n" "$(basename "$t")" "$n" $(( ($(date +%s%N) - t0) / 1000000 )) \
    "$(echo "$out" | grep -E '^\[  (PASSED|FAILED|SKIPPED) ' | tr '\n' ' ')"
  if [ $rc -ne 0 ]; then
    fails=$((fails + 1))
    echo "$out" | grep -E 'FAILED|Failure|error|Expected|Which is|rel|max' | head -30
  fi
done
exit $fails
