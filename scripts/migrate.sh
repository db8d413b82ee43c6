#!/usr/bin/env bash
# Applies the D1 migrations to a local state directory and seeds demo rows.
# usage: migrate.sh STATE_DIR [--seed]
set -euo pipefail
source "$(dirname "$0")/env.sh"
state=$1
wrangler d1 migrations apply DB --local --persist-to "$state"
if [ "${2:-}" = "--seed" ]; then
  wrangler d1 execute DB --local --persist-to "$state" --file worker/seed/demo.sql
fi
