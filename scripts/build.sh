#!/usr/bin/env bash
# Builds the worker into build/ with worker-build, using only local tool copies.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/toolchain.sh
export PATH="$PWD/.tools/bin:$PATH"
export WASM_BINDGEN_BIN="$PWD/.tools/bin/wasm-bindgen"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
worker-build --release "$@"
