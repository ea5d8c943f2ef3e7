#!/usr/bin/env python3
"""Generated models and manifests for the sidecar and memory measurements (README, Benchmarks).

usage:
  bench_make_cases.py issue11 DIR      one 6400x1600 f32 tensor (+ two small ones), 100 rank-1 edits
                                       with inline base64 factors (edits.jsonl), strong enough that
                                       the restraint bites
  bench_make_cases.py memory DIR       a 1.2 GB f32 model of 18 tensors 4096x4096 (64 MiB each),
                                       rank2.jsonl (a rank-2 edit of layers.7.weight), empty.jsonl,
                                       and b.safetensors: the same model with layers.7 and layers.11
                                       changed at rank 4 (for prune-diff --sidecar)
  bench_make_cases.py many DIR N       samples' gpt2-tiny is not used: a 1024x256 + 256x1024 f32 model
                                       and N rank-1 edits of one tensor (audit time)
Weights are Gaussian with a decaying spectrum (like trained weights), seeded.
"""
import base64
import json
import os
import sys

import numpy as np
from safetensors.numpy import save_file


def weights(rng, rows, cols, scale=0.02):
    w = rng.standard_normal((rows, cols), dtype=np.float32) * scale
    # decaying column scale: a spectrum that falls off like trained weights
    w *= (1.0 / np.sqrt(1.0 + np.arange(cols, dtype=np.float32) / 64.0))[None, :]
    return w


def b64(a):
    return {"b64": base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode(), "shape": list(a.shape)}


def rank1_lines(rng, tensor, rows, cols, n, strength):
    lines = []
    for i in range(n):
        u = rng.standard_normal((rows, 1)).astype(np.float32)
        v = rng.standard_normal((cols, 1)).astype(np.float32)
        u /= np.linalg.norm(u)
        v /= np.linalg.norm(v)
        lines.append(json.dumps({"id": f"e{i}", "kind": "lowrank", "tensor": tensor,
                                 "u": b64(u * np.float32(strength)), "v": b64(v), "scale": 1.0}))
    return "\n".join(lines) + "\n"


def issue11(d):
    rng = np.random.default_rng(11)
    w = weights(rng, 6400, 1600)
    t = {"model.layers.0.mlp.down_proj.weight": w,
         "model.norm.weight": np.ones(1600, dtype=np.float32),
         "model.layers.0.input_layernorm.weight": np.ones(1600, dtype=np.float32)}
    save_file(t, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    sigma = float(np.linalg.norm(w, 2))
    open(os.path.join(d, "edits.jsonl"), "w").write(
        rank1_lines(rng, "model.layers.0.mlp.down_proj.weight", 6400, 1600, 100, 2.0 * sigma))
    print(f"sigma_max {sigma:.6g}")


def memory(d):
    rng = np.random.default_rng(12)
    a, b = {}, {}
    for i in range(18):
        w = weights(rng, 4096, 4096)
        a[f"layers.{i}.weight"] = w
        if i in (7, 11):
            u = rng.standard_normal((4096, 4)).astype(np.float32) * 0.01
            v = rng.standard_normal((4096, 4)).astype(np.float32)
            b[f"layers.{i}.weight"] = (w + u @ v.T).astype(np.float32)
        else:
            b[f"layers.{i}.weight"] = w
    save_file(a, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    save_file(b, os.path.join(d, "b.safetensors"), metadata={"format": "pt"})
    u = rng.standard_normal((4096, 2)).astype(np.float32) * 0.05
    v = rng.standard_normal((4096, 2)).astype(np.float32)
    open(os.path.join(d, "rank2.jsonl"), "w").write(
        json.dumps({"id": "r2", "kind": "lowrank", "tensor": "layers.7.weight", "u": b64(u), "v": b64(v)}) + "\n")
    open(os.path.join(d, "empty.jsonl"), "w").write("")


def many(d, n):
    rng = np.random.default_rng(13)
    t = {"a.weight": weights(rng, 1024, 256), "b.weight": weights(rng, 256, 1024)}
    save_file(t, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    sigma = float(np.linalg.norm(t["a.weight"], 2))
    open(os.path.join(d, "edits.jsonl"), "w").write(rank1_lines(rng, "a.weight", 1024, 256, n, 0.05 * sigma))


if __name__ == "__main__":
    kind, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    if kind == "issue11":
        issue11(d)
    elif kind == "memory":
        memory(d)
    elif kind == "many":
        many(d, int(sys.argv[3]))
    else:
        sys.exit(f"unknown case {kind}")
