#!/usr/bin/env bash
# Runs the product locally: builds the Worker and the inspector, applies the
# D1 migrations to local state under .wrangler/state, seeds demo client rows,
# posts a few demo reports, and serves everything at http://localhost:8787.
set -euo pipefail
source "$(dirname "$0")/env.sh"

bash "$ROOT/scripts/build.sh"

step "Local D1: migrations and demo rows ($DEV_STATE)"
bash "$ROOT/scripts/migrate.sh" "$DEV_STATE" --seed

PORT=${PORT:-8787}
step "Serving on http://localhost:$PORT (Ctrl-C to stop)"
# Demo reports once the server answers, then every minute like real JDCs,
# so the inspector has live data. Stopped with the server.
node "$ROOT/scripts/demo-reports.mjs" "http://127.0.0.1:$PORT" >/dev/null 2>&1 &
demo=$!
trap 'kill "$demo" 2>/dev/null' EXIT
wrangler dev --local --ip 127.0.0.1 --port "$PORT" --persist-to "$DEV_STATE" --show-interactive-dev-session=false
