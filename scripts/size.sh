#!/usr/bin/env bash
# The size budget: the built wasm module, gzipped (-9), must stay within 512 KiB. Fails with
# the size and the budget when it does not. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=$((512 * 1024))
WASM=build/index_bg.wasm
[[ -f $WASM ]] || { echo "size: $WASM is missing; run scripts/build.sh first"; exit 1; }
RAW=$(wc -c <"$WASM")
GZ=$(gzip -9 -c "$WASM" | wc -c)
echo "size: wasm module $((RAW / 1024)) KiB raw, $GZ bytes ($((GZ / 1024)) KiB) gzipped; budget $BUDGET bytes (512 KiB)"
if (( GZ > BUDGET )); then
  echo "size: OVER BUDGET by $((GZ - BUDGET)) bytes. Find what grew (ARCHITECTURE.md, 'Size')."
  exit 1
fi
