#!/usr/bin/env python3
"""Make an "edited by another tool" model: copy IN to OUT and add a known low-rank delta to some
tensors, re-encoding them to their own dtype (numpy for safetensors, gguf-py quants for GGUF).
Only the bytes of the edited tensors change; everything else is copied verbatim.

usage: report_make_edited.py IN OUT --rank R --seed S TENSOR [TENSOR ...]
prints JSON: {"tensors": {name: {"rank": R, "singular_values": [... of decode(OUT) - decode(IN)]}}}
where the singular values are numpy's (float64) of the actual stored difference.
"""
import argparse
import json
import shutil

import numpy as np


def is_gguf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"GGUF"


def tensor_table(path):
    """name -> (absolute byte offset, byte count, decode() -> 2-D float32 memory order, encode(x) -> bytes)."""
    out = {}
    if is_gguf(path):
        import gguf
        from gguf import quants
        r = gguf.GGUFReader(path)
        for t in r.tensors:
            qt = t.tensor_type
            raw = np.array(t.data).tobytes()
            ne = [int(x) for x in t.shape]
            rows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
            cols = ne[0]

            def dec(raw=raw, qt=qt, rows=rows, cols=cols):
                if qt == gguf.GGMLQuantizationType.F32:
                    return np.frombuffer(raw, dtype=np.float32).reshape(rows, cols).copy()
                if qt == gguf.GGMLQuantizationType.F16:
                    return np.frombuffer(raw, dtype=np.float16).astype(np.float32).reshape(rows, cols)
                return quants.dequantize(np.frombuffer(raw, dtype=np.uint8).reshape(rows, -1), qt).reshape(rows, cols).astype(np.float32)

            def enc(x, qt=qt):
                if qt == gguf.GGMLQuantizationType.F32:
                    return x.astype(np.float32).tobytes()
                if qt == gguf.GGMLQuantizationType.F16:
                    return x.astype(np.float16).tobytes()
                return quants.quantize(x.astype(np.float32), qt).tobytes()
            out[t.name] = (int(t.data_offset), len(raw), dec, enc)
        return out
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    data = open(path, "rb").read()
    np_types = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        shape = e["shape"]
        dt = np_types.get(e["dtype"])
        if dt is None:
            continue
        cols = shape[-1] if shape else 1
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        raw = data[8 + n + lo: 8 + n + hi]

        def dec(raw=raw, dt=dt, rows=rows, cols=cols):
            return np.frombuffer(raw, dtype=dt).astype(np.float32).reshape(rows, cols)

        def enc(x, dt=dt):
            return x.astype(dt).tobytes()
        out[name] = (8 + n + lo, hi - lo, dec, enc)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--rank", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--strength", type=float, default=0.5,
                    help="top singular value of the delta relative to the tensor's spectral norm")
    ap.add_argument("tensors", nargs="+")
    a = ap.parse_args()
    table = tensor_table(a.inp)
    shutil.copyfile(a.inp, a.out)
    rng = np.random.default_rng(a.seed)
    result = {}
    with open(a.out, "r+b") as f:
        for name in a.tensors:
            off, size, dec, enc = table[name]
            w = dec()
            m, n = w.shape
            u, _ = np.linalg.qr(rng.standard_normal((m, a.rank)))
            v, _ = np.linalg.qr(rng.standard_normal((n, a.rank)))
            smax = np.linalg.norm(w.astype(np.float64), 2) if m > 1 else np.linalg.norm(w)
            sig = a.strength * smax * np.linspace(1.0, 0.5, a.rank)
            delta = (u * sig) @ v.T
            new = enc((w.astype(np.float64) + delta).astype(np.float32))
            assert len(new) == size, (name, len(new), size)
            f.seek(off)
            f.write(new)
            stored = np.frombuffer(new, dtype=np.uint8)
            result[name] = {"offset": off, "bytes": size}
    # Singular values of the stored difference, read back independently.
    after = tensor_table(a.out)
    for name in a.tensors:
        d = after[name][2]().astype(np.float64) - table[name][2]().astype(np.float64)
        s = np.linalg.svd(d, compute_uv=False)
        result[name].update({"rank": a.rank, "singular_values": [float(x) for x in s[:8]],
                             "max_abs": float(np.abs(d).max()),
                             "rel_frobenius": float(np.linalg.norm(d) / np.linalg.norm(table[name][2]().astype(np.float64)))})
    print(json.dumps({"tensors": result}))


if __name__ == "__main__":
    main()
