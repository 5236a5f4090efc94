#!/usr/bin/env bash
# neon_qemu.sh -- cross-builds the C test runner for AArch64 (Debian's
# aarch64-linux-gnu-gcc; the NEON kernels are compiled in) and runs every C
# suite under qemu user-mode emulation. Skips with a message (exit 0) when
# the cross compiler or qemu is missing; scripts/setup.sh installs both.
#
# Environment: NEON_QEMU_SUITES="threadpool kernels_float" to run only some.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
CROSS="${CROSS_CC:-aarch64-linux-gnu-gcc}"
QEMU=""
for q in qemu-aarch64 qemu-aarch64-static; do
  if command -v "$q" >/dev/null 2>&1; then QEMU="$q"; break; fi
done
if ! command -v "$CROSS" >/dev/null 2>&1; then
  echo "SKIP neon_qemu: $CROSS not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
  exit 0
fi
if [ -z "$QEMU" ]; then
  echo "SKIP neon_qemu: qemu-aarch64 not found (apt-get install qemu-user-static)"
  exit 0
fi
SYSROOT=/usr/aarch64-linux-gnu
if [ ! -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ]; then
  echo "SKIP neon_qemu: no AArch64 libc in $SYSROOT (apt-get install libc6-dev-arm64-cross)"
  exit 0
fi
make -s -j2 CC="$CROSS" BUILD=build/aarch64 build/aarch64/test_runner
export MONO_SHARED="${MONO_SHARED:-$(cd .. && pwd)/shared}"
# shellcheck disable=SC2086
"$QEMU" -L "$SYSROOT" build/aarch64/test_runner ${NEON_QEMU_SUITES:-}
