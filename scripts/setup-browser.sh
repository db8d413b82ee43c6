#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the inspector's browser
# tests when they are missing (needs root or sudo, and apt).
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "The browser tests need Chromium and ChromeDriver: install the Debian packages chromium and chromium-driver (as root) and run again." >&2
    exit 1
  fi
fi
printf '\n\033[1m==> Installing chromium and chromium-driver (Debian)\033[0m\n' >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
