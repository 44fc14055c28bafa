#!/usr/bin/env bash
# Builds, applies migrations to the remote D1 database, and deploys (needs `wrangler login`
# and the ids in wrangler.toml; see README, "Deploy").
set -euo pipefail
source "$(dirname "$0")/env.sh"
scripts/build.sh
wrangler d1 migrations apply DB --remote
wrangler deploy
