# Sourced by test.sh and bench.sh: starts the built worker under wrangler dev on a free port
# with a throw-away state directory, and stops it (and workerd) on exit, whatever happened.
STATE_DIR=$(mktemp -d)
PORT=$(free_port)
export GATEHOUSE_URL="http://127.0.0.1:$PORT"
[[ -f .dev.vars ]] || cp .dev.vars.example .dev.vars
migrate_local "$STATE_DIR"
SERVER_LOG="$STATE_DIR/wrangler.log"
# SERVE_VARS: extra `--var NAME:VALUE` arguments (the benchmark's simulated distance).
# shellcheck disable=SC2086
setsid wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE_DIR" \
  --inspector-port "$(free_port)" --show-interactive-dev-session=false ${SERVE_VARS:-} >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
stop_server() {
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  sleep 1
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  rm -rf "$STATE_DIR"
}
trap stop_server EXIT
for _ in $(seq 1 120); do
  curl -sf "$GATEHOUSE_URL/oidc/.well-known/openid-configuration" >/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG"; echo "wrangler dev exited"; exit 1; }
  sleep 0.5
done
curl -sf "$GATEHOUSE_URL/oidc/.well-known/openid-configuration" >/dev/null || { cat "$SERVER_LOG"; echo "wrangler dev did not start"; exit 1; }
echo "serve: wrangler dev is up at $GATEHOUSE_URL"
