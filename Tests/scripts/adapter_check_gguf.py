#!/usr/bin/env python3
"""Checks a llama.cpp LoRA adapter written by prune-adapter with the `gguf` package only (independently
of prune): adapter_check_gguf.py ADAPTER.gguf BASE.gguf EDITED.gguf
- general.type = adapter, adapter.type = lora, general.architecture = the base's;
  adapter.lora.alpha = the largest rank, and prune.adapter.ranks / rank_max / scale = 1 agree with the tensors;
- every tensor is <base tensor>.lora_a / .lora_b, F32, lora_a ne = [ne0 of the base weight, r] and
  lora_b ne = [r, ne1] (the shapes src/llama-adapter.cpp checks);
- llama.cpp's delta, scale·B·A with its rule (src/llama-adapter.h get_scale: scale = alpha/rank in f32,
  rank = ne[0] of lora_b, scale 1 only when alpha = 0), in float64, equals EDITED − BASE (both F32 GGUF files, the edited one written by prune-apply) to
  f32 rounding, and every weight without a pair is byte-identical in both.
Prints "ok <pairs> pairs <max rank> alpha <alpha> folded <pairs whose rank is below alpha>"; exits 1 with a message on the first failure."""
import sys
import numpy as np
from gguf import GGUFReader, GGMLQuantizationType

adapter_path, base_path, edited_path = sys.argv[1:4]
a, base, edited = GGUFReader(adapter_path), GGUFReader(base_path), GGUFReader(edited_path)

def text(r, key):
    f = r.fields[key]
    return bytes(f.parts[f.data[0]]).decode()

def number(r, key):
    f = r.fields[key]
    return float(f.parts[f.data[0]][0])

def fail(msg):
    sys.exit(f"{adapter_path}: {msg}")

if text(a, "general.type") != "adapter": fail("general.type is not adapter")
if text(a, "adapter.type") != "lora": fail("adapter.type is not lora")
import json
alpha = number(a, "adapter.lora.alpha")
ranks = json.loads(text(a, "prune.adapter.ranks"))
if text(a, "prune.adapter.scale") != "1": fail("prune.adapter.scale is not 1")
if alpha != float(text(a, "prune.adapter.rank_max")): fail(f"adapter.lora.alpha {alpha} is not prune.adapter.rank_max")
if text(a, "general.architecture") != text(base, "general.architecture"): fail("general.architecture differs from the base")

lora = {t.name: t for t in a.tensors}
bt = {t.name: t for t in base.tensors}
et = {t.name: t for t in edited.tensors}
names = sorted({n[:-len(".lora_a")] for n in lora})
for n in lora:
    if not (n.endswith(".lora_a") or n.endswith(".lora_b")): fail(f"tensor {n} is not a lora_a/lora_b")
    if n[:-len(".lora_a")] not in bt: fail(f"tensor {n} has no base tensor")
max_rank = 0
folded = 0
for name in names:
    la, lb, w = lora.get(name + ".lora_a"), lora.get(name + ".lora_b"), bt[name]
    if la is None or lb is None: fail(f"{name}: lora_a or lora_b missing")
    if la.tensor_type != GGMLQuantizationType.F32 or lb.tensor_type != GGMLQuantizationType.F32: fail(f"{name}: not F32")
    r = int(la.shape[1])
    max_rank = max(max_rank, r)
    if ranks.get(name) != r: fail(f"{name}: prune.adapter.ranks says {ranks.get(name)}, lora_b has rank {r}")
    scale = float(np.float32(alpha) / np.float32(r)) if alpha else 1.0
    folded += r < alpha
    if [int(x) for x in la.shape] != [int(w.shape[0]), r]: fail(f"{name}: lora_a ne {list(la.shape)}, base ne {list(w.shape)}")
    if [int(x) for x in lb.shape] != [r, int(w.shape[1])]: fail(f"{name}: lora_b ne {list(lb.shape)}, base ne {list(w.shape)}")
    A = np.asarray(la.data, dtype=np.float64).reshape(r, int(w.shape[0]))
    B = np.asarray(lb.data, dtype=np.float64).reshape(int(w.shape[1]), r)
    d = scale * (B @ A)
    w0 = np.asarray(w.data, dtype=np.float64).reshape(d.shape)
    w1 = np.asarray(et[name].data, dtype=np.float64).reshape(d.shape)
    # edited = fl(w0 + ΔW̄): half an ulp of the result; scale·B·A vs ΔW̄: the f32 rounding of the factors
    # and of llama.cpp's scale.
    tol = 2.0 ** -23 * (np.abs(w1) + np.abs(w0)) + 2.0 ** -20 * scale * (np.abs(B) @ np.abs(A)) + 1e-6 * np.abs(d).max()
    err = np.abs((w1 - w0) - d)
    if not (err <= tol).all():
        i = np.unravel_index(np.argmax(err - tol), err.shape)
        fail(f"{name}: B·A differs from edited − base at {i}: {d[i]} vs {(w1 - w0)[i]}")
for n, t in bt.items():
    if n not in names and bytes(t.data.tobytes()) != bytes(et[n].data.tobytes()): fail(f"{n} changed but has no pair")
if set(ranks) != set(names): fail(f"prune.adapter.ranks names {sorted(ranks)}, the tensors are {names}")
if alpha != max_rank: fail(f"adapter.lora.alpha {alpha} is not the largest rank {max_rank}")
print(f"ok {len(names)} pairs {max_rank} alpha {alpha:g} folded {folded}")
