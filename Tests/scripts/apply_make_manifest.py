#!/usr/bin/env python3
"""Writes a test manifest of edits on a model's own tensor names, in the manifest orientation (the
stored one, except GPT-2 GGUF weights, which are transposed; see apply_common.Model.transposed):
apply_make_manifest.py MODEL OUT.jsonl SEED TENSOR[,TENSOR...] [--dense NAME] [--strength S]
Each listed tensor gets one low-rank edit (rank 1 or 2) whose largest singular value is S × σ_max(W₀)
(so S > 1 makes the restraint act), given as nested JSON arrays; every other edit uses the b64 form.
--prefix P names the edits that carry an id P-<n> (default "edit").
--dense adds a dense edit (b64) on NAME at 0.5 × σ_max.
--b64 gives every low-rank edit in the b64 form (smaller files, for checked-in manifests)."""
import base64, json, sys
import numpy as np
from apply_common import Model

args = sys.argv[1:]
model, out, seed, names = args[0], args[1], int(args[2]), args[3].split(",")
dense = args[args.index("--dense") + 1] if "--dense" in args else None
strength = float(args[args.index("--strength") + 1]) if "--strength" in args else 3.0
prefix = args[args.index("--prefix") + 1] if "--prefix" in args else "edit"
all_b64 = "--b64" in args
m = Model(model)
rng = np.random.default_rng(seed)
lines = []
for i, name in enumerate(names):
    rows, cols = m.logical_shape(name)
    w = m.matrix(name)
    smax = np.linalg.norm(w, 2)
    k = 1 + (i % 2)
    u = rng.standard_normal((rows, k))
    v = rng.standard_normal((cols, k))
    u /= np.linalg.norm(u, axis=0)
    v /= np.linalg.norm(v, axis=0)
    u[:, 0] *= strength * smax
    if k > 1:
        u[:, 1] *= 0.5 * smax
    u = u.astype(np.float32)
    v = v.astype(np.float32)
    if i % 2 == 0 and not all_b64:
        e = {"kind": "lowrank", "tensor": name, "u": u.tolist(), "v": v.tolist()}
    else:
        e = {"id": f"{prefix}-{i}", "kind": "lowrank", "tensor": name, "scale": 0.75,
             "u": {"b64": base64.b64encode(u.astype("<f4").tobytes()).decode(), "shape": [rows, k]},
             "v": {"b64": base64.b64encode(v.astype("<f4").tobytes()).decode(), "shape": [cols, k]}}
    lines.append(json.dumps(e))
    if i == 0:
        lines.append("")  # blank lines are allowed
if dense:
    rows, cols = m.logical_shape(dense)
    d = rng.standard_normal((rows, cols))
    d *= 0.5 * np.linalg.norm(m.matrix(dense), 2) / np.linalg.norm(d, 2)
    lines.append(json.dumps({"id": f"{prefix}-dense", "kind": "dense", "tensor": dense,
                             "delta": {"b64": base64.b64encode(d.astype("<f4").tobytes()).decode(), "shape": [rows, cols]}}))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
