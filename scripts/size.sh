#!/usr/bin/env bash
# The size budget: the built wasm module, gzipped at level 9 by Node's zlib (as Wrangler and
# `make bench` measure it), must stay within 512 KiB (ARCHITECTURE.md, "Size"). Fails with the size and the budget when
# it does not. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
WASM=build/index_bg.wasm
[[ -f $WASM ]] || { echo "size: $WASM is missing; run scripts/build.sh first"; exit 1; }
node -e '
const fs = require("fs"), zlib = require("zlib");
const budget = 512 * 1024;
const raw = fs.readFileSync(process.argv[1]);
const gz = zlib.gzipSync(raw, { level: 9 }).length;
const kib = (n) => (n / 1024).toFixed(1);
console.log(`size: wasm module ${kib(raw.length)} KiB raw, ${kib(gz)} KiB gzipped; budget ${kib(budget)} KiB`);
if (gz > budget) {
  console.log(`size: OVER BUDGET by ${gz - budget} bytes: find what grew (ARCHITECTURE.md, "Size").`);
  process.exit(1);
}' "$WASM"
