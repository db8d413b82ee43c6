#!/usr/bin/env bash
# The cost benchmark: 100,000 client rows, 1,000 reporting JDCs, reads at
# 1,000 and 10,000 live JDCs, and the Rust Worker side by side with a plain
# JavaScript Worker (bench/baseline-worker/) in the same workerd, all
# against the built Worker under wrangler dev with fresh state. Prints
# figures and a JSON line; asserts nothing about time.
# Arguments pass through: [CAPACITY_SECS] [CONNECTIONS] [CADENCE_ROUNDS]
# [--side-rounds N] [--side-secs S] [--side-by-side-only]; or
# --profile WORKER for V8's CPU profile of one side-by-side Worker.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/build.sh"
cargo run --release -p dmr-bench --bin dmr-bench -- "$@"
