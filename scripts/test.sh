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

step "Clippy: the Worker and the inspector as wasm"
cargo clippy -p dmr-worker -p dmr-inspector --target wasm32-unknown-unknown -- -D warnings

step "Building the tests, clippy linting every target as it compiles"
# What `cargo clippy --workspace --all-targets -- -D warnings` checks, linted
# while the tests are built: `cargo clippy` is cargo with clippy-driver
# wrapping rustc for the workspace's own crates, and a full build through
# that wrapper lints the same code, so the dependencies are compiled once
# (not also in check mode). Every cargo command below uses the same wrapper
# and the same package selection (`--workspace`): cargo then picks the same
# dependency features each time and reuses what this step built.
# CLIPPY_ARGS is how `cargo clippy -- -D warnings` hands its flags over.
if ! RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver); then
  echo "clippy-driver not found: \`rustup component add clippy\` (scripts/setup.sh does)." >&2
  exit 1
fi
CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
# Every target, as `--all-targets` would be but for one: the end-to-end
# suite has `test = false` (it needs the built Worker, so a bare `cargo test`
# leaves it out) and is only built when named, as `--test '*'` does.
cargo test --workspace --lib --bins --test '*' --benches --examples --no-run
export JDC_REPORTER_BIN="$ROOT/target/debug/jdc-reporter"
export MINING_GATEWAY_BIN="$ROOT/target/debug/mining-gateway"

step "Tests: unit and CLI, beside the end-to-end suite"
# The end-to-end suite spends much of its time waiting on wrangler dev and
# the browser; the crates' own tests (one binary after another) run in that
# time. Their output is printed whole once both are done.
cargo test --workspace --no-fail-fast -- --test-threads=2 >"$unit_log" 2>&1 &
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
cargo test --workspace --test e2e --no-fail-fast -- --test-threads="${E2E_THREADS:-4}" || e2e_status=$?

unit_status=0
wait "$unit" || unit_status=$?
printf '\n\033[1m==> Unit and CLI tests (run beside the end-to-end suite)\033[0m\n' >&2
cat "$unit_log"
if [ "$unit_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; then
  echo "Tests failed: unit and CLI exit $unit_status, end to end exit $e2e_status." >&2
  exit 1
fi
