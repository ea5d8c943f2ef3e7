#!/usr/bin/env python3
"""Hugging Face folders for the runtime tests (Tests/PruneKitTests/Runtime), from a fixture folder.

  runtime_hf_tools.py shard SRC OUT MAX_BYTES     # sharded as transformers' save_pretrained does:
                                                  # model-0000k-of-0000n.safetensors + index.json
  runtime_hf_tools.py convert SRC OUT f16|bf16    # every tensor cast (round to nearest even)
  runtime_hf_tools.py upcast SRC OUT f16|bf16     # every tensor rounded to the type, stored as f32
                                                  # (the reference for `convert`)
  runtime_hf_tools.py drop SRC OUT NAME           # without tensor NAME
  runtime_hf_tools.py reshape SRC OUT NAME        # tensor NAME with its last row cut off
  runtime_hf_tools.py add SRC OUT NAME DIM...      # plus a zero f32 tensor NAME of shape DIM...
  runtime_hf_tools.py nan SRC OUT NAME            # tensor NAME with every value NaN

Each writes OUT/config.json (copied) and the weights. Safetensors are written here by hand (numpy
has no bf16) in the layout the safetensors library writes: 8-byte header length, JSON header with
tensors in name order, data in the same order, header padded with spaces to 8 bytes.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
from safetensors import safe_open


def read(folder):
    out = {}
    with safe_open(os.path.join(folder, "model.safetensors"), "np") as f:
        for k in f.keys():
            out[k] = f.get_tensor(k)
    return out


def bf16_bits(x):
    """f32 -> bf16 bits, round to nearest even."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def encode(x, dtype):
    if dtype == "F32":
        return np.ascontiguousarray(x, dtype="<f4").tobytes()
    if dtype == "F16":
        return np.ascontiguousarray(x, dtype=np.float32).astype("<f2").tobytes()
    if dtype == "BF16":
        return bf16_bits(x).astype("<u2").tobytes()
    raise ValueError(dtype)


def rounded(x, dtype):
    if dtype == "F16":
        return x.astype(np.float16).astype(np.float32)
    if dtype == "BF16":
        return (bf16_bits(x).astype(np.uint32) << 16).view(np.float32)
    return x


def write(path, tensors, dtypes):
    names = sorted(tensors)
    header, blobs, offset = {}, [], 0
    for n in names:
        b = encode(tensors[n], dtypes[n])
        header[n] = {"dtype": dtypes[n], "shape": list(tensors[n].shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def prepare(src, out):
    os.makedirs(out, exist_ok=True)
    for name in ("config.json", "generation_config.json"):
        if os.path.exists(os.path.join(src, name)):
            shutil.copy(os.path.join(src, name), os.path.join(out, name))


def shard(src, out, max_bytes):
    t = read(src)
    prepare(src, out)
    shards, cur, size = [], {}, 0
    for n in t:   # file order, as the state dict iterates
        b = t[n].nbytes
        if cur and size + b > max_bytes:
            shards.append(cur)
            cur, size = {}, 0
        cur[n] = t[n]
        size += b
    if cur:
        shards.append(cur)
    weight_map, total = {}, 0
    for i, s in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write(os.path.join(out, name), s, {n: "F32" for n in s})
        for n in s:
            weight_map[n] = name
            total += s[n].nbytes
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
    print(len(shards))


def main():
    op, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if op == "shard":
        shard(src, out, int(sys.argv[4]))
        return
    t = read(src)
    prepare(src, out)
    if op == "convert":
        dt = sys.argv[4].upper()
        write(os.path.join(out, "model.safetensors"), t, {n: dt for n in t})
    elif op == "upcast":
        dt = sys.argv[4].upper()
        write(os.path.join(out, "model.safetensors"), {n: rounded(v, dt) for n, v in t.items()}, {n: "F32" for n in t})
    elif op == "drop":
        del t[sys.argv[4]]
        write(os.path.join(out, "model.safetensors"), t, {n: "F32" for n in t})
    elif op == "reshape":
        n = sys.argv[4]
        t[n] = np.ascontiguousarray(t[n][:-1])
        write(os.path.join(out, "model.safetensors"), t, {n: "F32" for n in t})
    elif op == "add":
        t[sys.argv[4]] = np.zeros([int(d) for d in sys.argv[5:]], dtype=np.float32)
        write(os.path.join(out, "model.safetensors"), t, {n: "F32" for n in t})
    elif op == "nan":
        n = sys.argv[4]
        t[n] = np.full(t[n].shape, np.nan, dtype=np.float32)
        write(os.path.join(out, "model.safetensors"), t, {n: "F32" for n in t})
    else:
        sys.exit(f"unknown operation {op}")


if __name__ == "__main__":
    main()
