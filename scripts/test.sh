#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (native and wasm), the unit
# and CLI tests of every crate, and the end-to-end suite (tests/e2e) against
# the built Worker under wrangler dev (workerd with local KV and D1), a
# headless Chromium and schemathesis. Ends with the time each phase took.
set -euo pipefail
source "$(dirname "$0")/env.sh"

DMR_PHASES=$(mktemp)
export DMR_PHASES
test_tools_log=$(mktemp)
unit_log=$(mktemp)
trap 'phase_times; rm -f "$DMR_PHASES" "$test_tools_log" "$unit_log"' EXIT

# What only the tests need (Chromium, schemathesis) comes from apt and PyPI:
# fetched while the builds below keep the CPU busy (its steps are its own,
# not phases of this run).
DMR_PHASES="" bash "$ROOT/scripts/setup-test-tools.sh" >"$test_tools_log" 2>&1 &
test_tools=$!

bash "$ROOT/scripts/build.sh"

step "Formatting"
cargo fmt --all -- --check

step "Clippy"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p dmr-worker -p dmr-inspector --target wasm32-unknown-unknown -- -D warnings

step "Building the reporter, the gateway and the tests"
cargo build -p jdc-reporter -p mining-gateway
cargo test --workspace --no-run
export JDC_REPORTER_BIN="$ROOT/target/debug/jdc-reporter"
export MINING_GATEWAY_BIN="$ROOT/target/debug/mining-gateway"

step "Tests: unit and CLI, beside the end-to-end suite"
# The end-to-end suite spends much of its time waiting on wrangler dev and
# the browser; the crates' own tests (one binary after another) run in that
# time. Their output is printed whole once both are done.
cargo test --workspace --exclude dmr-tests --no-fail-fast -- --test-threads=2 >"$unit_log" 2>&1 &
unit=$!

if ! wait "$test_tools"; then
  echo "Installing the test tools (Chromium, schemathesis) failed:" >&2
  cat "$test_tools_log" >&2
  exit 1
fi
SCHEMATHESIS=$(tail -n 1 "$test_tools_log")
export SCHEMATHESIS

mkdir -p "$ROOT/test-artifacts"
# Most of a test's time is spent waiting on wrangler dev and the browser,
# not computing: E2E_THREADS of them run at once (default 4 on 2 cores).
e2e_status=0
cargo test -p dmr-tests --no-fail-fast -- --test-threads="${E2E_THREADS:-4}" || e2e_status=$?

unit_status=0
wait "$unit" || unit_status=$?
printf '\n\033[1m==> Unit and CLI tests (run beside the end-to-end suite)\033[0m\n' >&2
cat "$unit_log"
if [ "$unit_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; then
  echo "Tests failed: unit and CLI exit $unit_status, end to end exit $e2e_status." >&2
  exit 1
fi
