#!/usr/bin/env bash
# Installs what only the tests need, skipping what is there: Debian's Chromium
# and ChromeDriver (browser tests; needs root or sudo and apt), and
# schemathesis from PyPI in a virtualenv under ~/.cache (API conformance).
# Prints the schemathesis path on its last line.
set -euo pipefail
source "$(dirname "$0")/env.sh"

SCHEMATHESIS_VERSION=4.32.5
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/downstream-miner-reporting/schemathesis-$SCHEMATHESIS_VERSION"

apt_packages=()
command -v chromium >/dev/null || apt_packages+=(chromium)
command -v chromedriver >/dev/null || apt_packages+=(chromium-driver)
command -v python3 >/dev/null || apt_packages+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)

if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "The tests need the Debian packages ${apt_packages[*]}: install them (as root) and run again." >&2
      exit 1
    fi
  fi
  step "Installing ${apt_packages[*]} (Debian)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/schemathesis" ]; then
  step "Installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
echo "$VENV/bin/schemathesis"
