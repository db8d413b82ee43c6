#!/usr/bin/env bash
# Benchmarks mining-gateway against HAProxy (Debian's) in the same run, on
# loopback, in front of the same SV2 echo listener: mux CPU per connection
# and per small round trip, added latency, connections per second, RSS per
# idle connection at 9,000 open, and misroutes of 5,000 random SV2
# openings (ours, HAProxy with the same whole-token rules, HAProxy with the
# spec's one-byte rules). Prints a table and one JSON line. `--quick` runs
# smaller counts.
set -euo pipefail
source "$(dirname "$0")/env.sh"

if ! command -v haproxy >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "The benchmark needs Debian's haproxy: install it (as root) and run again." >&2
      exit 1
    fi
  fi
  step "Installing haproxy (Debian)"
  # Wait for another apt run (a test setup, say) instead of failing.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends haproxy >/dev/null
  # Only the binary is used: keep the packaged service from holding ports.
  $sudo systemctl disable --now haproxy >/dev/null 2>&1 || $sudo service haproxy stop >/dev/null 2>&1 || true
fi

step "Building mining-gateway (release) and the relay benchmark"
cargo bench -p mining-gateway --bench relay --no-run

step "Benchmarking (a few minutes; both muxes in turn, every measurement)"
# The benchmark runs the mining-gateway binary cargo built with it.
cargo bench -q -p mining-gateway --bench relay -- --haproxy "$(command -v haproxy)" "$@"
