# Sourced by the other scripts: Node 22 and the project's npm tools first on PATH.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:$PWD/.tools/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export WRANGLER_LOG_PATH="$PWD/.wrangler/logs"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Applies every migration to the local D1 database kept in $1.
migrate_local() {
  wrangler d1 migrations apply DB --local --persist-to "$1" >/dev/null
}
