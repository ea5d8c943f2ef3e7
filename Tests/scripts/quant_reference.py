#!/usr/bin/env python3
"""gguf-py reference for the tensor-codec tests (Tests/PruneKitTests/Tensors).

Independent implementation: gguf-py's `gguf.quants.quantize` / `dequantize` (NumPy).

Usage:
  quant_reference.py quantize   TYPE NE0 IN.f32 OUT.bin   # f32 (little-endian) -> TYPE bytes
  quant_reference.py dequantize TYPE NE0 IN.bin OUT.f32   # TYPE bytes -> f32 (NE0 = values per row)
  quant_reference.py batch JOBS.json                      # [{"op", "type", "ne0", "input", "output"}, ...]
  quant_reference.py dump MODEL.gguf OUTDIR               # every tensor: raw bytes (+ gguf-py's f32
                                                          # dequantization) and OUTDIR/index.json
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType, quants
from gguf.constants import GGML_QUANT_SIZES


def qtype(name):
    return GGMLQuantizationType[name]


def quantize(type_name, ne0, src, dst):
    t = qtype(type_name)
    x = np.fromfile(src, dtype="<f4").reshape(-1, ne0)
    with np.errstate(all="ignore"):
        out = quants.quantize(x, t)
    np.ascontiguousarray(out).tofile(dst)


def dequantize(type_name, ne0, src, dst):
    t = qtype(type_name)
    block, size = GGML_QUANT_SIZES[t]
    raw = np.fromfile(src, dtype=np.uint8).reshape(-1, ne0 // block * size)
    with np.errstate(all="ignore"):
        out = quants.dequantize(raw, t)
    np.ascontiguousarray(out, dtype="<f4").tofile(dst)


def run(job):
    fn = quantize if job["op"] == "quantize" else dequantize
    fn(job["type"], int(job["ne0"]), job["input"], job["output"])


def dump(model, outdir):
    os.makedirs(outdir, exist_ok=True)
    reader = GGUFReader(model)
    index = []
    for i, t in enumerate(reader.tensors):
        ne = [int(n) for n in t.shape]
        raw = bytes(reader.data[t.data_offset:t.data_offset + t.n_bytes])
        base = os.path.join(outdir, f"t{i}")
        with open(base + ".bin", "wb") as f:
            f.write(raw)
        entry = {"name": t.name, "type": t.tensor_type.name, "ne": ne, "data": base + ".bin", "dequant": None}
        block, size = GGML_QUANT_SIZES[t.tensor_type]
        try:
            arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, ne[0] // block * size)
            deq = quants.dequantize(arr, t.tensor_type)
            np.ascontiguousarray(deq, dtype="<f4").tofile(base + ".f32")
            entry["dequant"] = base + ".f32"
        except NotImplementedError:
            pass
        index.append(entry)
    with open(os.path.join(outdir, "index.json"), "w") as f:
        json.dump(index, f)


def main(argv):
    if len(argv) >= 2 and argv[1] == "batch":
        with open(argv[2]) as f:
            for job in json.load(f):
                run(job)
    elif len(argv) == 6 and argv[1] in ("quantize", "dequantize"):
        run({"op": argv[1], "type": argv[2], "ne0": argv[3], "input": argv[4], "output": argv[5]})
    elif len(argv) == 4 and argv[1] == "dump":
        dump(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
