#!/usr/bin/env python3
"""Literal float64 numpy reimplementation of the PRUNE restraint (mjy1111/PRUNE,
easyeditor/editors/bi_editor_loadw.py) and a deterministic case generator for the Swift tests.

usage: restraint_reference.py OUTDIR

Writes OUTDIR/cases.json and raw little-endian binaries (*.f32 / *.f64, row-major). For every case:
W0 (f32), the edits (low-rank factors a: rows x k, b: cols x k, f32, and a float scale; or dense f32),
the reference sigma_max(W0) (full SVD), and the reference restrained delta for every function
(e, 1.2, 1.5, 2, linear, none) under the `end` schedule (what the reference does), plus the `each`
schedule (restrain after every edit, same F, same rank rule) for the short sequences.

The reference per matrix: full SVDs of dW, W0, W0+dW and the new W; r = matrix_rank(dW) with
numpy's default tolerance S.max() * max(M, N) * eps(float64); every S[i] >= sigma_max(W0) becomes
F(S[i]); keep the first r components; W = W0 + U_r F(S_r) V_r^T.
"""
import json
import os
import sys

# Single-threaded BLAS: the cases are small and the machine is shared.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

FUNCTIONS = ["e", "1.2", "1.5", "2", "linear", "none"]


def F(name, s, smax):
    if name == "linear":
        return (s + smax) / 2
    if name == "none":
        return s
    alpha = np.e if name == "e" else float(name)
    return np.log(s) / np.log(alpha) - np.log(smax) / np.log(alpha) + smax


def reference_restrain(W0, dW, name, smax=None, literal=True):
    """The reference algorithm, literally (full SVDs). `literal=False` skips the report-only SVDs."""
    U, S, Vt = np.linalg.svd(dW)                 # full_matrices=True, as numpy's default
    if smax is None:
        S0 = np.linalg.svd(W0, compute_uv=False)
        smax = S0[0]
    if literal:
        _ = np.linalg.svd(W0 + dW, compute_uv=False)   # the reference also decomposes these
    r = np.linalg.matrix_rank(dW)
    S2 = S.copy()
    for i in range(len(S)):
        if S[i] >= smax:
            S2[i] = F(name, S[i], smax)
    new_delta = U[:, :r] @ np.diag(S2[:r]) @ Vt[:r, :]
    if literal:
        _ = np.linalg.svd(W0 + new_delta, compute_uv=False)
    return new_delta, r, int(np.sum(S[:r] >= smax)) if name != "none" else 0


def controlled(rng, rows, cols, spectrum):
    k = min(rows, cols)
    U, _ = np.linalg.qr(rng.standard_normal((rows, k)))
    V, _ = np.linalg.qr(rng.standard_normal((cols, k)))
    s = np.zeros(k)
    s[: len(spectrum)] = spectrum
    return (U * s) @ V.T


def unit(rng, n):
    x = rng.standard_normal(n)
    return x / np.linalg.norm(x)


def rank1_edits(rng, rows, cols, sigmas):
    edits = []
    for s in sigmas:
        a = (unit(rng, rows) * np.sqrt(s)).reshape(rows, 1)
        b = (unit(rng, cols) * np.sqrt(s)).reshape(cols, 1)
        edits.append({"kind": "lowrank", "a": a, "b": b, "scale": 1.0})
    return edits


def rankk_edits(rng, rows, cols, count, k, sigma_range):
    edits = []
    for _ in range(count):
        Ua, _ = np.linalg.qr(rng.standard_normal((rows, k)))
        Ub, _ = np.linalg.qr(rng.standard_normal((cols, k)))
        s = rng.uniform(*sigma_range, size=k)
        edits.append({"kind": "lowrank", "a": Ua * s, "b": Ub, "scale": 0.5})
        edits[-1]["a"] = edits[-1]["a"] * 2.0  # scale 0.5 folded back by the consumer
    return edits


def as_f32(x):
    return np.ascontiguousarray(x, dtype=np.float32)


def edit_dense(e):
    if e["kind"] == "lowrank":
        return e["scale"] * (e["a"].astype(np.float64) @ e["b"].astype(np.float64).T)
    return e["d"].astype(np.float64)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20250501)
    cases = []

    def add(name, W0, edits, each=False, kappa=False):
        W0 = as_f32(W0)
        for e in edits:
            if e["kind"] == "lowrank":
                e["a"], e["b"] = as_f32(e["a"]), as_f32(e["b"])
            else:
                e["d"] = as_f32(e["d"])
        rows, cols = W0.shape
        W0d = W0.astype(np.float64)
        smax = float(np.linalg.svd(W0d, compute_uv=False)[0])
        dW = sum(edit_dense(e) for e in edits)
        case = {"name": name, "rows": rows, "cols": cols, "w0": f"{name}_w0.f32", "sigma_max": smax,
                "edits": [], "expected": {}, "expected_each": {}, "rank": {}, "restrained": {}}
        W0.tofile(os.path.join(out, case["w0"]))
        for i, e in enumerate(edits):
            if e["kind"] == "lowrank":
                fa, fb = f"{name}_e{i}_a.f32", f"{name}_e{i}_b.f32"
                e["a"].tofile(os.path.join(out, fa))
                e["b"].tofile(os.path.join(out, fb))
                case["edits"].append({"kind": "lowrank", "rank": int(e["a"].shape[1]), "a": fa, "b": fb,
                                      "scale": e["scale"]})
            else:
                fd = f"{name}_e{i}_d.f32"
                e["d"].tofile(os.path.join(out, fd))
                case["edits"].append({"kind": "dense", "d": fd})
        for fn in FUNCTIONS:
            nd, r, count = reference_restrain(W0d, dW, fn)
            f = f"{name}_end_{fn}.f64"
            np.ascontiguousarray(nd, dtype=np.float64).tofile(os.path.join(out, f))
            case["expected"][fn] = f
            case["rank"][fn] = int(r)
            case["restrained"][fn] = count
            if each:
                state = np.zeros_like(W0d)
                for e in edits:
                    state, _, _ = reference_restrain(W0d, state + edit_dense(e), fn, smax=smax, literal=False)
                fe = f"{name}_each_{fn}.f64"
                np.ascontiguousarray(state, dtype=np.float64).tofile(os.path.join(out, fe))
                case["expected_each"][fn] = fe
        if kappa:
            nd, _, _ = reference_restrain(W0d, dW, "e")
            k = lambda M: (lambda s: float(s[0] / s[-1]))(np.linalg.svd(M, compute_uv=False))
            case["kappa_e"] = [k(W0d), k(W0d + dW), k(W0d + nd)]
        cases.append(case)

    # sigma1 ~= sigma2 (relative gap 1e-9), then a decaying tail.
    near = [10.0, 10.0 * (1 - 1e-9)] + list(np.linspace(8.0, 0.1, 118))
    W_tall = controlled(rng, 200, 120, near)
    add("tall_below", W_tall, rank1_edits(rng, 200, 120, [5.0]), each=True)
    add("tall_at", W_tall, rank1_edits(rng, 200, 120, [10.0]), each=True)
    add("tall_above", W_tall, rank1_edits(rng, 200, 120, [30.0]), each=True, kappa=True)
    add("tall_seq10", W_tall, rank1_edits(rng, 200, 120, rng.uniform(2.0, 30.0, 10)), each=True)
    add("tall_seq100", W_tall, rank1_edits(rng, 200, 120, rng.uniform(0.5, 20.0, 100)))
    # Gaussian W0 (flat top of the spectrum: slow for plain power iteration).
    W_wide = rng.standard_normal((120, 200)) / np.sqrt(200)
    sm = float(np.linalg.svd(W_wide, compute_uv=False)[0])
    add("wide_seq10", W_wide, rank1_edits(rng, 120, 200, rng.uniform(0.2, 3.0, 10) * sm), each=True)
    add("wide_rank8x3", W_wide, rankk_edits(rng, 120, 200, 3, 8, (0.1 * sm, 4.0 * sm)), each=True)
    W_sq = controlled(rng, 128, 128, [5.0, 5.0] + list(np.linspace(4.9, 0.01, 126)))
    add("square_seq100", W_sq, rank1_edits(rng, 128, 128, rng.uniform(0.1, 12.0, 100)))
    add("square_rank8x4", W_sq, rankk_edits(rng, 128, 128, 4, 8, (0.5, 15.0)), each=True)
    W_t2 = rng.standard_normal((300, 160)) * 0.02
    sm2 = float(np.linalg.svd(W_t2, compute_uv=False)[0])
    add("tall_rank8x4", W_t2, rankk_edits(rng, 300, 160, 4, 8, (0.05 * sm2, 5.0 * sm2)), each=True)
    # A dense full-rank edit mixed with low-rank ones.
    dense = {"kind": "dense", "d": rng.standard_normal((96, 80)) * 0.3}
    add("mixed_dense", rng.standard_normal((96, 80)) * 0.1,
        [dense] + rank1_edits(rng, 96, 80, [3.0, 0.2]), each=True, kappa=True)

    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"functions": FUNCTIONS, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
