#!/usr/bin/env bash
# Builds the inspector page into inspector/dist/, which wrangler serves as
# static assets: Rust to wasm (release profile: size-optimised), wasm-bindgen
# (the CLI matching Cargo.lock), wasm-opt -Oz (npm binaryen), then the HTML,
# boot script, stylesheet and `_headers`. `build.sh` holds the wasm to its
# size budget.
set -euo pipefail
source "$(dirname "$0")/env.sh"

DIST="$ROOT/inspector/dist"
WASM_IN="$ROOT/target/wasm32-unknown-unknown/release/dmr-inspector.wasm"

if ! command -v wasm-bindgen >/dev/null; then
  echo "wasm-bindgen not found: run \`npm run setup\` (bash scripts/setup.sh) first." >&2
  exit 1
fi

step "Inspector: no serde JSON decoder among its own dependencies"
# The page decodes JSON with `JSON.parse` and inspector/src/decode/, not with
# serde (why: decode's docs). So serde_json and serde-wasm-bindgen must not be
# dependencies of the page itself (as dev-dependencies, for the native tests,
# they may). serde_json also sits deeper in the tree (leptos, dmr-shared),
# where only what the page calls reaches the wasm; inspector/clippy.toml
# refuses those calls.
direct=$(cargo tree -p dmr-inspector --target wasm32-unknown-unknown -e normal \
  --depth 1 --prefix none)
if found=$(grep -E '^(serde_json|serde-wasm-bindgen) ' <<<"$direct"); then
  echo "error: the inspector depends on $found: the page decodes JSON with \`JSON.parse\` and src/decode/; remove it from inspector/Cargo.toml's [dependencies] (a [dev-dependencies] entry is fine)." >&2
  exit 1
fi

step "Inspector: cargo build (wasm32, release)"
# For size, `--cfg erase_components` has Leptos type-erase each component's
# view and share one reactive-closure type per output type, rather than
# instantiating its rendering code for every distinct view and closure
# (the gzip saving is in docs/performance.md). Set for this build only: cargo keeps artifacts
# built with other flags apart, so the Worker's builds stay as they are.
RUSTFLAGS="${RUSTFLAGS:-} --cfg erase_components" \
  cargo build -p dmr-inspector --release --target wasm32-unknown-unknown

step "Inspector: wasm-bindgen, wasm-opt"
# Both are deterministic and take most of a rebuild's time: skipped when the
# wasm cargo built, this script and both tools are what the page in dist/
# was made from (the stamp lives under target/, not in the served dist/).
bindgen_and_opt() {
  rm -rf "$DIST"
  mkdir -p "$DIST/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$DIST/pkg" --out-name inspector "$WASM_IN"
  # Current rustc emits bulk-memory, non-trapping float-to-int, sign-ext,
  # multivalue and reference types by default; wasm-opt must accept them.
  # For size: --flatten --rereloop before -Oz restructures control flow into
  # fewer, smaller blocks; --low-memory-unused lets it fold constant offsets
  # into loads and stores, which is sound because rustc's wasm32 layout puts
  # the 1 MiB stack first, so the lowest 1 KiB is only ever reached by a
  # stack that has already overflowed.
  "$WASM_OPT_BIN" --low-memory-unused --flatten --rereloop -Oz --converge \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$DIST/pkg/inspector_bg.wasm" "$DIST/pkg/inspector_bg.wasm"
}
build_unless_stamped "$ROOT/target/inspector-dist.stamp" \
  "$(cat "$WASM_IN" "${BASH_SOURCE[0]}" <(wasm-bindgen --version) <("$WASM_OPT_BIN" --version) |
    sha256sum | cut -d' ' -f1)" \
  "$DIST/pkg/inspector_bg.wasm" bindgen_and_opt

cp "$ROOT/inspector/index.html" "$ROOT/inspector/boot.js" "$ROOT/inspector/inspector.css" "$DIST/"
# Response headers for the static assets (CSP and friends), if the repo has them.
if [ -f "$ROOT/inspector/_headers" ]; then
  cp "$ROOT/inspector/_headers" "$DIST/"
fi
