#!/usr/bin/env python3
"""Independent description of a model file for cross-checks, as JSON on stdout.

safetensors: header parsed with struct + json, tensor bytes read through the `safetensors`
package (safe_open, numpy). GGUF: the `gguf` package's GGUFReader.
Output: {"format", "tensors": [{"name","dtype","shape","offset","bytes","sha256"}], "metadata": {...}}
(tensors in data order; offsets relative to the data section).
"""
import hashlib, json, struct, sys


def safetensors_desc(path):
    from safetensors import safe_open
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = header.pop("__metadata__", None)
    tensors = []
    with safe_open(path, framework="numpy") as sf:
        for name, e in header.items():
            b, end = e["data_offsets"]
            data = sf.get_tensor(name).tobytes()
            tensors.append({"name": name, "dtype": e["dtype"], "shape": e["shape"], "offset": b,
                            "bytes": end - b, "sha256": hashlib.sha256(data).hexdigest()})
    tensors.sort(key=lambda t: (t["offset"], t["offset"] + t["bytes"]))
    return {"format": "safetensors", "tensors": tensors, "metadata": meta}


def gguf_desc(path):
    import gguf
    r = gguf.GGUFReader(path)
    tensors = []
    data_start = min(t.data_offset for t in r.tensors) if r.tensors else 0
    for t in r.tensors:
        raw = bytes(r.data[t.data_offset:t.data_offset + t.n_bytes])
        tensors.append({"name": t.name, "dtype": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                        "offset": int(t.data_offset - data_start), "bytes": int(t.n_bytes),
                        "sha256": hashlib.sha256(raw).hexdigest()})
    keys = [k for k in r.fields.keys() if not k.startswith("GGUF.")]
    meta = {}
    for k in keys:
        f = r.fields[k]
        if f.types and f.types[0] == gguf.GGUFValueType.ARRAY:
            meta[k] = {"array": f.types[1].name if len(f.types) > 1 else None, "count": len(f.data)}
        elif f.types and f.types[0] == gguf.GGUFValueType.STRING:
            meta[k] = bytes(f.parts[-1]).decode("utf-8")
        else:
            meta[k] = f.parts[-1].tolist()[0]
    return {"format": "gguf", "tensors": tensors, "metadata": meta, "keys": keys,
            "version": int(r.fields["GGUF.version"].parts[-1][0])}


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        magic = f.read(4)
    desc = gguf_desc(path) if magic == b"GGUF" else safetensors_desc(path)
    json.dump(desc, sys.stdout)


if __name__ == "__main__":
    main()
