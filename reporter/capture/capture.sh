#!/usr/bin/env bash
# Recreates reporter/tests/fixtures/translator/: builds the real SRI apps
# (translator_sv2 0.6.0, jd_client_sv2 0.6.0) from crates.io if they are not
# there yet, builds the capture tool, and runs one capture on 127.0.0.1.
#
#   bash reporter/capture/capture.sh [OUT_DIR]
#
# SRI_BIN (default /opt/sri/bin) is where the two binaries are, or are put.
# The run takes about two minutes; the SRI build about an hour on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../tests/fixtures/translator}"
sri_bin="${SRI_BIN:-/opt/sri/bin}"
sri_root="$(dirname "$sri_bin")"

if [[ ! -x "$sri_bin/translator_sv2" || ! -x "$sri_bin/jd_client_sv2" ]]; then
  # The translator and JD-Client build capnp schemas (Bitcoin Core IPC).
  if ! command -v capnp >/dev/null; then
    apt-get update && apt-get install -y capnproto libcapnp-dev
  fi
  nice -n 10 cargo install --locked translator_sv2@0.6.0 jd_client_sv2@0.6.0 \
    --root "$sri_root" --target-dir "${SRI_TARGET:-/opt/sri-target}"
fi
"$sri_bin/translator_sv2" --version || true
"$sri_bin/jd_client_sv2" --version || true

cargo build --release --manifest-path "$here/Cargo.toml"

mkdir -p "$out"
# Only what a run writes is replaced; README.md stays.
rm -f "$out"/*.log "$out"/*.json "$out"/*.toml "$out"/timeline.txt
"$here/target/release/capture" --sri-bin "$sri_bin" --out "$out"
ls -l "$out"
