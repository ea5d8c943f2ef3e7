#!/usr/bin/env bash
# Runs the parser fuzzer (Benchmarks/prune-fuzz) for a bounded time.
# usage: Tests/scripts/fuzz.sh [SECONDS=60] [SEED=1]
# Exit 0: no crash. Exit 99: a crash; the input is saved as crash-SEED.bin in the current folder.
set -euo pipefail
seconds="${1:-60}"
seed="${2:-1}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
swift build -c release --product prune-fuzz >/dev/null
bin="$(swift build -c release --show-bin-path)/prune-fuzz"
exec "$bin" --seconds "$seconds" --seed "$seed" --fixtures "${PRUNE_FIXTURES:-$root/../shared/fixtures}" --crash-dir "$PWD"
