#!/usr/bin/env python3
"""A manifest of N rank-1 edits of one tensor, factors inline in base64 (as ROME/MEMIT tools write
them): sidecar_make_sequence.py MODEL OUT.jsonl TENSOR N STRENGTH SEED
Each edit is u vᵀ with unit random u, v and σ = STRENGTH · σ_max(W₀) / sqrt(N), so the accumulated
delta of N random directions has σ of about STRENGTH · σ_max(W₀)."""
import base64, json, sys
import numpy as np
from apply_common import Model

model, out, name, n, strength, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
m = Model(model)
rows, cols = m.logical_shape(name)
smax = np.linalg.norm(m.matrix(name), 2)
rng = np.random.default_rng(seed)
lines = []
for i in range(n):
    u = rng.standard_normal((rows, 1))
    v = rng.standard_normal((cols, 1))
    u *= strength * smax / np.sqrt(n) / np.linalg.norm(u)
    v /= np.linalg.norm(v)
    lines.append(json.dumps({"id": f"seq-{i}", "kind": "lowrank", "tensor": name,
                             "u": {"b64": base64.b64encode(u.astype("<f4").tobytes()).decode(), "shape": [rows, 1]},
                             "v": {"b64": base64.b64encode(v.astype("<f4").tobytes()).decode(), "shape": [cols, 1]}}))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
