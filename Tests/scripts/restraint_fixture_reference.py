#!/usr/bin/env python3
"""Real-weight cross-check for the restraint engine (float64 numpy, literal reference).

usage: restraint_fixture_reference.py FIXTURES_DIR OUTDIR

For every 2-D f32 tensor of gpt2-tiny and llama-tiny model.safetensors (except embeddings), writes its
raw f32 bytes and sigma_max from a full SVD. For the first MLP output weight of each model it also
writes a seeded rank-4 delta (sigma spread below/above sigma_max) and the reference restrained delta
(`end` schedule, F = log_e): full SVD of dW, matrix_rank, keep the first r, W = W0 + U_r F(S_r) V_r^T.
"""
import json
import os
import sys

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402


def main():
    fixtures, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    tensors, restraint = [], []
    for model, target in (("gpt2-tiny", "transformer.h.0.mlp.c_proj.weight"),
                          ("llama-tiny", "model.layers.0.mlp.down_proj.weight")):
        weights = load_file(os.path.join(fixtures, model, "model.safetensors"))
        for name in sorted(weights):
            w = weights[name]
            if w.ndim != 2 or w.dtype != np.float32 or "embed" in name or "wte" in name or "wpe" in name or "lm_head" in name:
                continue
            f = f"{model}__{name}.f32"
            np.ascontiguousarray(w).tofile(os.path.join(out, f))
            s = np.linalg.svd(w.astype(np.float64), compute_uv=False)
            tensors.append({"model": model, "name": name, "rows": w.shape[0], "cols": w.shape[1], "file": f,
                            "sigma_max": float(s[0])})
            if name == target:
                rows, cols = w.shape
                smax = float(s[0])
                sig = np.array([0.3, 0.9, 1.5, 4.0]) * smax
                qa, _ = np.linalg.qr(rng.standard_normal((rows, 4)))
                qb, _ = np.linalg.qr(rng.standard_normal((cols, 4)))
                a = (qa * sig).astype(np.float32)
                b = qb.astype(np.float32)
                dW = a.astype(np.float64) @ b.astype(np.float64).T
                U, S, Vt = np.linalg.svd(dW)
                r = np.linalg.matrix_rank(dW)
                S2 = S.copy()
                for i in range(len(S)):
                    if S[i] >= smax:
                        S2[i] = np.log(S[i]) - np.log(smax) + smax
                nd = U[:, :r] @ np.diag(S2[:r]) @ Vt[:r, :]
                base = f"{model}__delta"
                a.tofile(os.path.join(out, base + "_a.f32"))
                b.tofile(os.path.join(out, base + "_b.f32"))
                np.ascontiguousarray(nd).tofile(os.path.join(out, base + "_expected.f64"))
                restraint.append({"model": model, "name": name, "rows": rows, "cols": cols, "w0": f, "rank": 4,
                                  "a": base + "_a.f32", "b": base + "_b.f32", "expected": base + "_expected.f64",
                                  "numerical_rank": int(r), "restrained": int(np.sum(S[:r] >= smax))})
    with open(os.path.join(out, "fixtures.json"), "w") as fh:
        json.dump({"tensors": tensors, "restraint": restraint}, fh, indent=1)


if __name__ == "__main__":
    main()
