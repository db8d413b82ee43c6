#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (native and wasm), unit tests,
# and the end-to-end tests against the built Worker under wrangler dev
# (workerd with local KV and D1), a headless Chromium and schemathesis.
set -euo pipefail
source "$(dirname "$0")/env.sh"

bash "$ROOT/scripts/build.sh"
SCHEMATHESIS=$(bash "$ROOT/scripts/setup-test-tools.sh" | tail -n 1)
export SCHEMATHESIS

step "Formatting"
cargo fmt --all -- --check

step "Clippy"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p dmr-worker -p dmr-inspector --target wasm32-unknown-unknown -- -D warnings

step "Building the reporter and the gateway"
cargo build -p jdc-reporter -p mining-gateway
export JDC_REPORTER_BIN="$ROOT/target/debug/jdc-reporter"
export MINING_GATEWAY_BIN="$ROOT/target/debug/mining-gateway"

step "Tests (unit, CLI, end-to-end)"
mkdir -p "$ROOT/test-artifacts"
# Each end-to-end test starts its own wrangler dev: two at a time on 2 cores.
cargo test --workspace --no-fail-fast -- --test-threads=2
