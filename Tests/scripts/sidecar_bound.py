#!/usr/bin/env python3
"""The information bound of a sidecar's revert residuals, computed independently of prune (numpy).

usage: sidecar_bound.py BASE EDITED SIDECAR [--json]

BASE and EDITED are safetensors or GGUF models, plain or .zst (decompressed with the zstd tool).
For every tensor the sidecar records:
- F32 / F16 / BF16: the bound is sum over elements of max(0, e(edited) - e(base)) bits, e(x) the
  binade of x: its exponent field, with zero and subnormals in binade 1 (they share its spacing).
  Rounding W0 + dW to a coarser binade destroys exactly that many low bits of W0; no exact revert
  can store less. Prints the residual's size in bits, the bound and their ratio.
- other types (quantized): the residual's size against the tensor's size, and the number of blocks
  whose bytes changed.
Prints one line per tensor (or a JSON list with --json).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open

SPEC = {  # dtype: (numpy uint type, exponent shift, exponent mask)
    "F32": (np.uint32, 23, 0xFF),
    "F16": (np.uint16, 10, 0x1F),
    "BF16": (np.uint16, 7, 0xFF),
}


def plain(path, tmp):
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"\x28\xb5\x2f\xfd":
        out = os.path.join(tmp, os.path.basename(path) + ".raw")
        subprocess.run(["zstd", "-q", "-d", "-f", path, "-o", out], check=True)
        return out
    return path


def tensor_bytes(path, name):
    """Raw stored bytes of a tensor: safetensors by its header, GGUF by gguf-py's reader."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"GGUF":
        import gguf
        r = gguf.GGUFReader(path)
        for t in r.tensors:
            if t.name == name:
                return np.asarray(t.data).tobytes()
        raise SystemExit(f"{path}: no tensor {name}")
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        a, b = header[name]["data_offsets"]
        f.seek(8 + n + a)
        return f.read(b - a)


def binade(bits, shift, mask):
    e = (bits >> shift) & mask
    return np.maximum(e.astype(np.int64), 1)


def main():
    base, edited, sidecar = sys.argv[1:4]
    as_json = "--json" in sys.argv
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base, edited = plain(base, tmp), plain(edited, tmp)
        with safe_open(sidecar, "numpy") as f:
            doc = json.loads(f.metadata()["prune"])
            for t in doc["tensors"]:
                residual = f.get_tensor(t["residual"]["data"]).nbytes
                a = tensor_bytes(base, t["name"])
                b = tensor_bytes(edited, t["name"])
                row = {"tensor": t["name"], "type": t["type"], "codec": t["residual"]["codec"],
                       "residual_bytes": int(residual), "tensor_bytes": len(a)}
                if t["type"] in SPEC:
                    dt, shift, mask = SPEC[t["type"]]
                    x = np.frombuffer(a, dtype=dt)
                    y = np.frombuffer(b, dtype=dt)
                    bound = int(np.maximum(binade(y, shift, mask) - binade(x, shift, mask), 0).sum())
                    row["bound_bits"] = bound
                    row["elements_losing_bits"] = int((binade(y, shift, mask) > binade(x, shift, mask)).sum())
                    row["ratio"] = (8 * residual / bound) if bound else None
                else:
                    row["ratio_to_tensor"] = residual / len(a)
                rows.append(row)
    if as_json:
        print(json.dumps(rows))
        return
    for r in rows:
        if "bound_bits" in r:
            ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else "-"
            print(f"{r['tensor']} {r['type']} {r['codec']}: residual {8 * r['residual_bytes']} bits, "
                  f"bound {r['bound_bits']} bits ({r['elements_losing_bits']} elements), ratio {ratio}")
        else:
            print(f"{r['tensor']} {r['type']} {r['codec']}: residual {r['residual_bytes']} bytes of "
                  f"{r['tensor_bytes']}, ratio to the tensor {r['ratio_to_tensor']:.4f}")


if __name__ == "__main__":
    main()
