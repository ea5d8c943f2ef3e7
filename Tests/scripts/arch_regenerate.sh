#!/usr/bin/env bash
# Regenerates Tests/fixtures/architectures/<family>/{reference.json, model-f16.gguf} (issue 19).
# The tests never run this; they run only arch_make_models.py (numpy + safetensors) to rebuild the
# HF folders, whose model.safetensors sha256 each reference.json records.
#
#   TVENV=python-with-torch-transformers LLAMA_PY=python-with-llama-cpp-python \
#   LLAMA_CPP=.../llama-cpp-python-0.3.36/vendor/llama.cpp  Tests/scripts/arch_regenerate.sh WORK
#
# LLAMA_CPP: `pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36`, unpacked.
# WORK (outside the repository) receives the HF folders and the f32 GGUFs of the diagnostic.
set -euo pipefail
WORK=${1:?usage: arch_regenerate.sh WORK}
: "${TVENV:?python with torch + transformers}" "${LLAMA_PY:?python with llama-cpp-python}" "${LLAMA_CPP:?llama.cpp source folder}"
HERE=$(cd "$(dirname "$0")" && pwd)
FIX=$HERE/../fixtures/architectures
FAMILIES="llama mistral qwen2 qwen3 phi3 gemma2 gemma3 gpt2"

"$TVENV" "$HERE/arch_make_models.py" "$WORK/hf"
"$TVENV" "$HERE/arch_reference.py" "$WORK/hf" "$FIX"
for f in $FAMILIES; do
    for t in f16 f32; do
        case $t in f16) out=$FIX/$f/model-f16.gguf ;; f32) out=$WORK/gguf/$f-f32.gguf ;; esac
        mkdir -p "$(dirname "$out")"
        PYTHONPATH=$LLAMA_CPP/gguf-py "$TVENV" "$HERE/arch_convert.py" "$LLAMA_CPP" gpt-2 "$WORK/hf/$f" \
            --outtype $t --outfile "$out" >"$WORK/convert-$f-$t.log" 2>&1
    done
done
"$LLAMA_PY" "$HERE/arch_llamacpp_check.py" "$FIX" --f32 "$WORK/gguf"
# The fact engine's references on the same weights (ROME on every family, MEMIT/AlphaEdit on gemma2
# and gemma3; TVENV also needs protobuf for the SentencePiece tokenizers).
"$TVENV" "$HERE/facts_family_reference.py"
