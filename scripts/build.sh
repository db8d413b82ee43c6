#!/usr/bin/env bash
# Builds what the Worker serves: the Worker itself (worker-build: Rust to
# wasm, wasm-bindgen, wasm-opt, esbuild into worker/build/) and the inspector
# page (into inspector/dist/). Incremental: a second run with no change is fast.
set -euo pipefail
source "$(dirname "$0")/env.sh"

bash "$ROOT/scripts/setup.sh"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"

step "Building the Worker (release wasm)"
(cd worker && worker-build --release)
wasm=$(ls worker/build/*.wasm worker/build/**/*.wasm 2>/dev/null | head -n 1 || true)
if [ -n "$wasm" ]; then
  printf 'worker wasm: %s bytes, %s bytes gzip (%s)\n' \
    "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)" "$wasm"
fi

step "Building the inspector"
bash "$ROOT/scripts/build-inspector.sh"
