#!/usr/bin/env bash
# The whole life cycle of an edit on the shipped samples, checked at every step:
#   apply -> inspect -> audit -> diff -> continue -> revert, and the result is the original, byte for byte.
# Run from the package root after `swift build -c release` (PRUNE_BIN overrides the binaries' folder).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PRUNE_BIN:-.build/release}
S=samples
MODEL=$S/gpt2-tiny/model.safetensors
GGUF=$S/gpt2-tiny/model-q8_0.gguf
WORK=$(mktemp -d "${TMPDIR:-/tmp}/prune-lifecycle.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
step() { printf '\n== %s\n' "$*"; }

for tool in prune-apply prune-inspect prune-audit prune-diff prune-revert; do
    [ -x "$BIN/$tool" ] || { echo "lifecycle: $BIN/$tool not found; run swift build -c release first" >&2; exit 1; }
done

step "1. apply a rank-2 edit (samples/edits.jsonl) to the safetensors sample"
"$BIN/prune-apply" "$MODEL" $S/edits.jsonl -o "$WORK/edited.safetensors.zst" --sidecar "$WORK/edits.prune"

step "2. inspect the edited model (zstd-compressed)"
"$BIN/prune-inspect" "$WORK/edited.safetensors.zst" | head -n 12

step "3. audit the sidecar, and identify the edited model and the base with it"
"$BIN/prune-audit" "$WORK/edits.prune" "$WORK/edited.safetensors.zst"
"$BIN/prune-audit" --json "$WORK/edits.prune" "$MODEL" | grep -q '"verdict": "base"'
echo "the base model is recognised as the base"

step "4. diff the base and the edited model"
"$BIN/prune-diff" "$MODEL" "$WORK/edited.safetensors.zst"

step "5. continue the chain with samples/more.jsonl"
"$BIN/prune-apply" "$WORK/edited.safetensors.zst" $S/more.jsonl --continue "$WORK/edits.prune" \
    -o "$WORK/edited2.safetensors.zst" --sidecar "$WORK/chain.prune"
"$BIN/prune-audit" "$WORK/chain.prune" "$WORK/edited2.safetensors.zst" | tail -n 1

step "6. revert the whole chain and compare with the original"
"$BIN/prune-revert" "$WORK/edited2.safetensors.zst" "$WORK/chain.prune" -o "$WORK/reverted.safetensors"
cmp "$MODEL" "$WORK/reverted.safetensors"
sha256sum "$MODEL" "$WORK/reverted.safetensors" | sed "s|$WORK|\$WORK|"

step "7. the same on the quantized GGUF sample with the LoRA adapter (samples/lora.jsonl)"
"$BIN/prune-apply" "$GGUF" $S/lora.jsonl -o "$WORK/edited.gguf.zst" --sidecar "$WORK/lora.prune"
"$BIN/prune-diff" "$GGUF" "$WORK/edited.gguf.zst"
"$BIN/prune-revert" "$WORK/edited.gguf.zst" "$WORK/lora.prune" -o "$WORK/reverted.gguf"
cmp "$GGUF" "$WORK/reverted.gguf"

echo
echo "lifecycle: OK (both reverted models are byte-identical to the originals)"
