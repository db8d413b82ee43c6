#!/usr/bin/env bash
# The full load run: 200 concurrent reporters (distinct identities and IPs)
# for 3 minutes against the built Worker under wrangler dev with fresh state.
# Arguments pass through: [REPORTERS] [DURATION_SECS] [INTERVAL_SECS].
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/build.sh"
cargo run --release -p dmr-bench --bin dmr-load -- "$@"
