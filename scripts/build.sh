#!/usr/bin/env bash
# Builds the worker into build/ with worker-build, using only local tool copies.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/toolchain.sh
export PATH="$PWD/.tools/bin:$PATH"
export WASM_BINDGEN_BIN="$PWD/.tools/bin/wasm-bindgen"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
# The standard library is rebuilt for the module with panics that abort on the spot: no panic
# message, location or formatting machinery is linked (the lints forbid panicking code of
# ours, so this only drops dead weight: about 29 KiB gzipped). `Debug` formats nothing in
# the module (-Zfmt-debug=none, 3.5 KiB): nothing of ours may depend on `{:?}` output, which
# `tests/architecture.rs` checks. These are unstable flags of
# the pinned stable compiler, enabled with RUSTC_BOOTSTRAP for this build only; native
# builds and tests are unaffected. ARCHITECTURE.md, "Size".
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
worker-build --release "$@"
