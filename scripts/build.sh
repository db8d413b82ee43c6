#!/usr/bin/env bash
# Builds what the Worker serves: the Worker itself (worker-build: Rust to
# wasm, wasm-bindgen, wasm-opt, esbuild into worker/build/) and the inspector
# page (into inspector/dist/), then holds each wasm to its size budget.
# Incremental: a second run with no change is fast.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# Size budgets, gzip -9 of each wasm as it is served (KB = 1024 bytes, as
# the docs count). Cloudflare's free plan takes a Worker of 3 MB gzip;
# these keep the Worker's cold start and the inspector's first load small.
# The inspector, Agents panel included, is held to 150 KB: the page fits
# through cuts shared by all of it (talc as allocator, wasm-opt
# restructuring passes, no derived Debug on the page's error, plain loops
# in the JSON readers, one signal and one memo per panel's state, the
# page's poll started by hand rather than as a Leptos resource, no
# Suspense, Transition or ErrorBoundary, and Leptos's type-erased
# components, see build-inspector.sh). Sizes and their history:
# docs/performance.md.
WORKER_WASM_BUDGET_KB=250
INSPECTOR_WASM_BUDGET_KB=150

bash "$ROOT/scripts/setup.sh"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"

step "Building the Worker (release wasm)"
# worker-build runs wasm-bindgen, wasm-opt and esbuild again every time, even
# when cargo finds nothing to build: skipped when everything the Worker is
# built from is what worker/build/ was made from (the stamp is under target/).
worker_inputs() {
  find worker/src worker/Cargo.toml worker/openapi.json shared/src shared/Cargo.toml \
    Cargo.toml Cargo.lock -type f -print0 | sort -z | xargs -0 sha256sum
  sha256sum <"${BASH_SOURCE[0]}"
  rustc -Vv
  worker-build --version
  "$WASM_BINDGEN_BIN" --version
  "$WASM_OPT_BIN" --version
  "$ESBUILD_BIN" --version
  echo "RUSTFLAGS=${RUSTFLAGS:-} CARGO_ENCODED_RUSTFLAGS=${CARGO_ENCODED_RUSTFLAGS:-}"
  echo "RUSTC_WORKSPACE_WRAPPER=${RUSTC_WORKSPACE_WRAPPER:-}"
}
build_worker() { (cd worker && worker-build --release); }
build_unless_stamped "$ROOT/target/worker-build.stamp" \
  "$(worker_inputs | sha256sum | cut -d' ' -f1)" worker/build/index_bg.wasm build_worker

step "Building the inspector"
bash "$ROOT/scripts/build-inspector.sh"

step "Wasm size budgets"
over=0
bash "$ROOT/scripts/wasm-budget.sh" worker worker/build/index_bg.wasm "$WORKER_WASM_BUDGET_KB" || over=1
bash "$ROOT/scripts/wasm-budget.sh" inspector inspector/dist/pkg/inspector_bg.wasm "$INSPECTOR_WASM_BUDGET_KB" || over=1
exit "$over"
