#!/usr/bin/env bash
# Installs everything the build and the tests need, skipping what is already there.
# Idempotent; reaches only the package registries (crates.io, npm, Debian).
#   scripts/toolchain.sh          Rust target, worker-build, wasm-bindgen-cli, npm packages
#   scripts/toolchain.sh browser  also Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"

lock_version() { # the version of a crate in Cargo.lock
  awk -v n="$1" '$0=="name = \""n"\"" {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock
}

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "toolchain: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The module's build rebuilds the standard library (scripts/build.sh), from rustup's rust-src.
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "toolchain: adding the rust-src component"
  rustup component add rust-src
fi

install_crate() { # name version [extra cargo-install args]
  local name=$1 version=$2; shift 2
  local stamp="$TOOLS/.installed-$name-$version"
  [[ -f $stamp ]] && return 0
  echo "toolchain: building $name $version into .tools (once; takes minutes)"
  cargo install --quiet --root "$TOOLS" --force "$name" --version "=$version" "$@"
  touch "$stamp"
}
install_crate worker-build "$(lock_version worker)" --locked
# --locked fails for wasm-bindgen-cli: one locked dependency is not on the registry.
install_crate wasm-bindgen-cli "$(lock_version wasm-bindgen)"

if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "toolchain: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [[ ${1:-} == browser ]] && [[ ! -x /usr/bin/chromium ]]; then
  echo "toolchain: installing Chromium from Debian"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
