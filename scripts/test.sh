#!/usr/bin/env bash
# The test command: static checks, native tests, then the end-to-end suite against the
# real worker in wrangler dev.
set -euo pipefail
source "$(dirname "$0")/env.sh"
scripts/toolchain.sh browser
echo "== rustfmt";  cargo fmt --check
echo "== clippy";   cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --quiet -- -D warnings
echo "== cargo test"; cargo test --quiet
echo "== build";    scripts/build.sh
echo "== size";     scripts/size.sh
echo "== end-to-end"
source scripts/serve-bg.sh
node --test --test-concurrency=1 tests/e2e/*.test.mjs || { echo "--- wrangler dev log (tail)"; tail -n 60 "$SERVER_LOG"; exit 1; }
