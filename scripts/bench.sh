#!/usr/bin/env bash
# The benchmark command (not part of the tests): starts the release worker under wrangler dev
# and prints, per endpoint, requests/s, p50/p99 latency, workerd CPU per request, D1 round
# trips per request and the ratio to a trivial route; the Argon2id cost; the wasm size.
#   BENCH_D1_RTT_MS=50 make bench   adds 50 ms to every D1 round trip (simulated distance)
set -euo pipefail
source "$(dirname "$0")/env.sh"
scripts/build.sh >/dev/null
# BENCH_D1_RTT_MS=50: every D1 round trip first waits that long, as for a user far from the
# D1 primary.
if [[ -n ${BENCH_D1_RTT_MS:-} ]]; then
  export SERVE_VARS="--var SIMULATED_D1_RTT_MS:$BENCH_D1_RTT_MS"
fi
source scripts/serve-bg.sh
export SERVER_PGID="$SERVER_PID"
node scripts/bench.mjs "$@"
