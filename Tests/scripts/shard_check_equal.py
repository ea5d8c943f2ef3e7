#!/usr/bin/env python3
"""Loads a sharded checkpoint folder with the `safetensors` package, as a loader would after
decompressing the shards the index lists under metadata.prune_zstd_shards (zstd tool), and checks
that it holds exactly the tensors of a single-file model (plain or .zst): shard_check_equal.py FOLDER MODEL
Exit 1 with a message on any difference."""
import json, os, subprocess, sys, tempfile
import numpy as np
from safetensors.numpy import load_file

folder, single = sys.argv[1], sys.argv[2]
index = json.load(open(os.path.join(folder, "model.safetensors.index.json")))
compressed = index.get("metadata", {}).get("prune_zstd_shards", {})
with tempfile.TemporaryDirectory() as tmp:
    def plain(path):
        if open(path, "rb").read(4) == b"\x28\xb5\x2f\xfd":
            out = os.path.join(tmp, os.path.basename(path) + ".raw")
            subprocess.run(["zstd", "-q", "-d", "-f", path, "-o", out], check=True)
            return out
        return path
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        t = load_file(plain(os.path.join(folder, compressed.get(shard, shard))))
        for k in t:
            if index["weight_map"].get(k) != shard:
                sys.exit(f"{k} is in {shard}, the index says {index['weight_map'].get(k)}")
        tensors.update(t)
    ref = load_file(plain(single))
if sorted(ref) != sorted(tensors):
    sys.exit("tensor names differ")
for k in ref:
    if ref[k].dtype != tensors[k].dtype or ref[k].shape != tensors[k].shape or ref[k].tobytes() != tensors[k].tobytes():
        sys.exit(f"tensor {k} differs")
print(f"{len(ref)} tensors equal")
