"""Checks prune's HF <-> GGUF tensor mapping on a fixture folder against gguf-py and the data.

usage: edits_check_mapping.py FIXTURE_DIR MAPPING_JSON
MAPPING_JSON (written by the Swift test) = {"hf_on_gguf": [{"name", "tensor", "layout"}],
                                            "gguf_on_st": [{"name", "tensor", "layout"}]}
- every safetensors tensor is mapped, to the GGUF tensor gguf-py's TensorNameMap names;
- converter_transform(HF data) == GGUF data, exactly, and prune's layout label agrees;
- every GGUF tensor name maps back to the safetensors tensor whose gguf-py name it is, as stored.
Prints "ok ..." and exits 0, or lists the mismatches and exits 1."""
import json
import sys

import numpy as np

from edits_common import open_model, gguf_name, converter_transform

folder, mapping_path = sys.argv[1], sys.argv[2]
st = open_model(f"{folder}/model.safetensors")
gg = open_model(f"{folder}/model-f32.gguf")
arch = gg["arch"]
mapping = json.load(open(mapping_path))
errors = []

hf_entries = {e["name"]: e for e in mapping["hf_on_gguf"]}
checked = 0
for name, (_, _, data) in st["tensors"].items():
    e = hf_entries.get(name)
    if e is None:
        errors.append(f"{name}: not mapped by prune"); continue
    expected = gguf_name(name, arch)
    if expected not in gg["tensors"] and expected == "output.weight":
        expected = "token_embd.weight"   # tied output
    if e["tensor"] != expected:
        errors.append(f"{name}: prune -> {e['tensor']}, gguf-py -> {expected}"); continue
    label, fn = converter_transform(name, arch, gg["n_head"], gg["n_head_kv"])
    if e["layout"] != label:
        errors.append(f"{name}: prune layout {e['layout']}, converter {label}")
    gdata = gg["tensors"][expected][2]
    conv = fn(data)
    if conv.shape != gdata.shape or not np.array_equal(conv, gdata):
        errors.append(f"{name}: converted data differs from GGUF {expected}")
    checked += 1

st_by_gguf = {gguf_name(n, arch): n for n in st["tensors"]}
back = {e["name"]: e for e in mapping["gguf_on_st"]}
for name in gg["tensors"]:
    e = back.get(name)
    if e is None:
        errors.append(f"{name}: not mapped back by prune"); continue
    if st_by_gguf.get(name) != e["tensor"]:
        errors.append(f"{name}: prune -> {e['tensor']}, expected {st_by_gguf.get(name)}")
    if e["layout"] != "asStored":
        errors.append(f"{name}: layout on safetensors must be asStored, got {e['layout']}")
    checked += 1

if errors:
    print("\n".join(errors)); sys.exit(1)
print(f"ok {checked} mappings, {len(hf_entries)} HF names on GGUF, {len(back)} GGUF names on safetensors")
