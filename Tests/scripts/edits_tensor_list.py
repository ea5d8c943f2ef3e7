"""Prints a model's tensor list as JSON (read with gguf-py / safetensors), for the Swift edit tests:
{"format", "architecture", "head_count", "head_count_kv", "tensors": [{"name", "type", "shape"}]}."""
import json
import sys

from edits_common import open_model

m = open_model(sys.argv[1])
print(json.dumps({
    "format": m["format"], "architecture": m["arch"],
    "head_count": m["n_head"], "head_count_kv": m["n_head_kv"],
    "tensors": [{"name": k, "type": t, "shape": s} for k, (t, s, _) in m["tensors"].items()],
}))
