#!/usr/bin/env python3
"""Writes F16 and BF16 copies of a F32 safetensors model: apply_make_variants.py IN.safetensors OUTDIR.
Floats are rounded to nearest even; the header keeps the tensor order and __metadata__."""
import json, os, struct, sys
import numpy as np
from apply_common import st_header

src, outdir = sys.argv[1], sys.argv[2]
hdr, start = st_header(src)
data = open(src, "rb").read()[start:]
names = sorted((k for k in hdr if k != "__metadata__"), key=lambda k: hdr[k]["data_offsets"][0])


def to_bf16(a):
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return r.tobytes()


for tag, conv in (("f16", lambda a: a.astype("<f2").tobytes()), ("bf16", to_bf16)):
    out_hdr, blobs, at = {}, [], 0
    if "__metadata__" in hdr:
        out_hdr["__metadata__"] = hdr["__metadata__"]
    for k in names:
        e = hdr[k]
        a, b = e["data_offsets"]
        blob = data[a:b]
        dtype = e["dtype"]
        if dtype == "F32":
            blob = conv(np.frombuffer(blob, dtype="<f4"))
            dtype = tag.upper()
        out_hdr[k] = {"dtype": dtype, "shape": e["shape"], "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    h = json.dumps(out_hdr, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(os.path.join(outdir, f"model-{tag}.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for blob in blobs:
            f.write(blob)
