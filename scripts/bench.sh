#!/usr/bin/env bash
# The benchmark command (not part of the tests): starts the release worker under wrangler dev
# and prints requests/s, p50/p99 latency and workerd CPU per request for the main endpoints,
# plus the wasm module's size.
set -euo pipefail
source "$(dirname "$0")/env.sh"
scripts/build.sh >/dev/null
source scripts/serve-bg.sh
export SERVER_PGID="$SERVER_PID"
node scripts/bench.mjs "$@"
