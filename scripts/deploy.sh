#!/usr/bin/env bash
# Builds and deploys to Cloudflare. Needs `wrangler login` (or
# CLOUDFLARE_API_TOKEN) and the KV/D1 ids filled in wrangler.toml; applies the
# D1 migrations to the remote database first.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/build.sh"
wrangler d1 migrations apply DB --remote
wrangler deploy "$@"
