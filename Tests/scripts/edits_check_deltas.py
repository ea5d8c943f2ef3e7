"""Checks deltas prune resolved (dumped by the Swift tests) against independently computed ones.

usage: edits_check_deltas.py INDEX_JSON
INDEX_JSON = [{"model": path, "tensor": stored name, "rows", "cols", "file": raw little-endian f32
               rows x cols, "hf_name": the HF tensor name, "scale": number, "exact": bool,
               and the HF-orientation delta as one of
               "expected": .npy path | "expected_st": [safetensors path, key] |
               "expected_uv": {"u": raw f32 R x k, "v": raw f32 C x k, "rows": R, "cols": C, "rank": k} (u @ v.T)}]
The expected stored delta is converter_transform(scale * expected) (identity on safetensors); rows x cols
must equal the tensor's memory-order shape as gguf-py / safetensors read it."""
import json
import sys

import numpy as np

from edits_common import open_model, converter_transform

index = json.load(open(sys.argv[1]))
models = {}
errors = []
for e in index:
    m = models.setdefault(e["model"], open_model(e["model"]))
    _, shape, _ = m["tensors"][e["tensor"]]
    # Memory-order matrix shape: safetensors [.., a, b] -> prod(..a) x b; GGUF ne [ne0, ne1, ..] -> prod(ne1..) x ne0.
    if m["format"] == "gguf":
        mshape = (int(np.prod(shape[1:])), shape[0])
    else:
        mshape = (int(np.prod(shape[:-1])), shape[-1])
    if (e["rows"], e["cols"]) != mshape:
        errors.append(f"{e['tensor']}: prune {e['rows']}x{e['cols']}, file {mshape}"); continue
    got = np.fromfile(e["file"], dtype="<f4").reshape(e["rows"], e["cols"]).astype(np.float64)
    if "expected" in e:
        hf = np.load(e["expected"]).astype(np.float64)
    elif "expected_st" in e:
        from safetensors.numpy import load_file
        hf = load_file(e["expected_st"][0])[e["expected_st"][1]].astype(np.float64)
    else:
        x = e["expected_uv"]
        u = np.fromfile(x["u"], dtype="<f4").reshape(x["rows"], x["rank"]).astype(np.float64)
        v = np.fromfile(x["v"], dtype="<f4").reshape(x["cols"], x["rank"]).astype(np.float64)
        hf = u @ v.T
    hf = hf * e["scale"]
    if m["format"] == "gguf":
        _, fn = converter_transform(e["hf_name"], m["arch"], m["n_head"], m["n_head_kv"])
        hf = fn(hf)
    want = hf.reshape(mshape)
    if e.get("exact"):
        ok = np.array_equal(got, want.astype(np.float32).astype(np.float64))
    else:
        ok = np.allclose(got, want, rtol=1e-5, atol=1e-6 * max(1e-30, np.abs(want).max()))
    if not ok:
        errors.append(f"{e['tensor']} ({e['hf_name']}): max |diff| {np.abs(got - want).max():.3g}, max |want| {np.abs(want).max():.3g}")
if errors:
    print("\n".join(errors)); sys.exit(1)
print(f"ok {len(index)} deltas")
