#!/usr/bin/env python3
"""Checks that a file prune wrote opens in Python's own readers with the same tensors.

usage: io_check_readable.py ORIGINAL WRITTEN [CHANGED_NAME ...]
Both files are plain (decompressed). Tensors are read with `safetensors` (safe_open, numpy) or
`gguf` (GGUFReader). Every tensor must have the same name, dtype and shape in both files; its bytes
must be equal unless it is listed as CHANGED, in which case they must differ. Metadata / KV fields
must be equal. Prints a JSON summary; exits 1 on any mismatch.
"""
import json, sys


def st_load(path):
    from safetensors import safe_open
    out = {}
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        for k in f.keys():
            a = f.get_tensor(k)
            out[k] = (str(a.dtype), list(a.shape), a.tobytes())
    return out, meta


def gguf_load(path):
    import gguf
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        out[t.name] = (t.tensor_type.name, [int(x) for x in t.shape], bytes(t.data.tobytes()))
    meta = {}
    for k, f in r.fields.items():
        meta[k] = [bytes(p.tobytes()) .hex() for p in f.parts]
    return out, meta


def main():
    orig, written, changed = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    with open(orig, "rb") as f:
        load = gguf_load if f.read(4) == b"GGUF" else st_load
    a, ma = load(orig)
    b, mb = load(written)
    problems = []
    if list(a) != list(b):
        problems.append("tensor names or order differ")
    for name, (dt, shape, data) in a.items():
        if name not in b:
            problems.append(f"missing {name}")
            continue
        dt2, shape2, data2 = b[name]
        if (dt, shape) != (dt2, shape2):
            problems.append(f"{name}: {dt}{shape} vs {dt2}{shape2}")
        if name in changed and data == data2:
            problems.append(f"{name}: expected changed bytes")
        if name not in changed and data != data2:
            problems.append(f"{name}: bytes differ")
    if ma != mb:
        problems.append("metadata differs")
    json.dump({"ok": not problems, "tensors": len(b), "problems": problems[:10]}, sys.stdout)
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
