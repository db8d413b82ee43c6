#!/usr/bin/env bash
# Prints a wasm file's size, raw and gzip -9, and fails when the gzip size
# is over the budget, naming both numbers.
# usage: wasm-budget.sh NAME FILE BUDGET_KB   (1 KB = 1024 bytes)
set -euo pipefail
name=$1 file=$2 budget_kb=$3
if [ ! -f "$file" ]; then
  echo "$name wasm: $file is missing: the build did not produce it" >&2
  exit 1
fi
raw=$(stat -c %s "$file")
gz=$(gzip -9 -c "$file" | wc -c)
budget=$((budget_kb * 1024))
printf '%s wasm: %s bytes, %s bytes gzip (%s KB of a %s KB budget) (%s)\n' \
  "$name" "$raw" "$gz" "$(((gz + 1023) / 1024))" "$budget_kb" "$file"
if [ "$gz" -gt "$budget" ]; then
  printf 'error: the %s wasm is %s bytes gzip, over its budget of %s KB (%s bytes) by %s bytes.\n' \
    "$name" "$gz" "$budget_kb" "$budget" "$((gz - budget))" >&2
  exit 1
fi
