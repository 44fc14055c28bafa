#!/usr/bin/env bash
# The run command: install what is missing, build, migrate the local D1, serve.
set -euo pipefail
source "$(dirname "$0")/env.sh"
scripts/build.sh
[[ -f .dev.vars ]] || { cp .dev.vars.example .dev.vars; echo "dev: created .dev.vars from .dev.vars.example"; }
STATE="${GATEHOUSE_STATE_DIR:-.wrangler/state}"
PORT="${PORT:-8787}"
migrate_local "$STATE"
echo "dev: serving http://127.0.0.1:$PORT (state in $STATE)"
exec wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --inspector-port "${INSPECTOR_PORT:-$(free_port)}" --show-interactive-dev-session=false
