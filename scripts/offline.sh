#!/usr/bin/env bash
# Runs an npm script with no network at all, to show that once a machine is
# set up, `npm run build`, `npm run dev` and `npm test` need nothing from the
# package registries: the command runs in a network namespace of its own
# whose only interface is loopback (127.0.0.1 works, nothing else resolves).
# Needs root (unshare); run the same script online once first.
# usage: bash scripts/offline.sh build|dev|test [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
  echo "usage: bash scripts/offline.sh build|dev|test [ARGS...]" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "A network namespace needs root: run this as root (or with sudo)." >&2
  exit 1
fi
for tool in unshare ip; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is missing: install Debian's util-linux and iproute2." >&2
    exit 1
  fi
done

exec unshare --net -- bash -c 'ip link set lo up && exec npm run "$@"' offline "$@"
