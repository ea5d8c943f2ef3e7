#!/bin/bash
# The baselines' Python environments for prune-bench-runtime (never used in CI):
#   bench_env.sh TORCH_VENV LLAMA_VENV      ('-' skips one)
# TORCH_VENV gets CPU torch, transformers and safetensors; LLAMA_VENV gets llama-cpp-python, built
# from its sdist with cmake (about 5-10 minutes). A venv that already imports them is left alone.
set -euo pipefail
torch_venv=$1
llama_venv=$2
if [ "$torch_venv" != - ] && ! "$torch_venv/bin/python" -c 'import torch, transformers, safetensors' 2>/dev/null; then
    echo "bench_env.sh: installing torch (CPU) into $torch_venv" >&2
    python3 -m venv "$torch_venv"
    "$torch_venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu
    "$torch_venv/bin/pip" install -q transformers safetensors numpy
fi
if [ "$llama_venv" != - ] && ! "$llama_venv/bin/python" -c 'import llama_cpp, numpy' 2>/dev/null; then
    echo "bench_env.sh: building llama-cpp-python into $llama_venv" >&2
    command -v cmake >/dev/null || apt-get install -y cmake >&2
    python3 -m venv "$llama_venv"
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "$llama_venv/bin/pip" install -q llama-cpp-python numpy
fi
