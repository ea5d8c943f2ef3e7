#!/usr/bin/env python3
"""Independent numbers for an audit of a prune-apply run on a safetensors model, from the files alone.

usage: report_audit_reference.py BASE.safetensors EDITED.safetensors[.zst] MANIFEST.jsonl
prints JSON {tensor: {"sigma_max_w0", "sv_raw" (of the manifest's s·U·Vᵀ, summed per tensor),
                      "sv_applied" (of decode(EDITED) − decode(BASE)), "rel_perturbation"}}
Only 'lowrank' edits with inline arrays are supported (what the tests write).
"""
import json
import subprocess
import sys

import numpy as np
from safetensors.numpy import load, load_file


def load_any(path):
    if path.endswith(".zst"):
        return load(subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout)
    return load_file(path)


base = load_file(sys.argv[1])
edited = load_any(sys.argv[2])
raw = {}
for line in open(sys.argv[3]):
    if not line.strip():
        continue
    e = json.loads(line)
    assert e["kind"] == "lowrank"
    u = np.array(e["u"], dtype=np.float64)
    v = np.array(e["v"], dtype=np.float64)
    if u.ndim == 1:
        u, v = u[:, None], v[:, None]
    d = e.get("scale", 1.0) * u @ v.T
    raw[e["tensor"]] = raw.get(e["tensor"], 0) + d
out = {}
for name, d in raw.items():
    w0 = base[name].astype(np.float64)
    applied = edited[name].astype(np.float64) - w0
    s_app = np.linalg.svd(applied, compute_uv=False)
    smax = float(np.linalg.svd(w0, compute_uv=False)[0])
    out[name] = {"sigma_max_w0": smax,
                 "sv_raw": [float(x) for x in np.linalg.svd(d, compute_uv=False)[:8]],
                 "sv_applied": [float(x) for x in s_app[:8]],
                 "rel_perturbation": float(s_app[0] / smax)}
print(json.dumps(out))
