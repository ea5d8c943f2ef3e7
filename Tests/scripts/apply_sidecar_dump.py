#!/usr/bin/env python3
"""Opens a prune sidecar with the `safetensors` package only (independently of prune), checks the
SHA-256 of every part and of the document, and prints a JSON summary on stdout.
Exit 1 with a message when a hash does not match."""
import hashlib, json, sys
import numpy as np
from safetensors import safe_open

path = sys.argv[1]
with safe_open(path, framework="numpy") as f:
    meta = f.metadata()
    doc_text = meta["prune"]
    if hashlib.sha256(doc_text.encode()).hexdigest() != meta["prune_sha256"]:
        sys.exit("document hash mismatch")
    doc = json.loads(doc_text)
    keys = sorted(f.keys())
    for k in keys:
        a = f.get_tensor(k)
        h = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
        if doc["parts"].get(k) != h:
            sys.exit(f"part hash mismatch: {k}")
    if sorted(doc["parts"].keys()) != keys:
        sys.exit("parts list differs from the tensors")
    manifests = [bytes(f.get_tensor(m["data"]).tobytes()).decode() for m in doc["manifests"]]
    for m, text in zip(doc["manifests"], manifests):
        if hashlib.sha256(text.encode()).hexdigest() != m["sha256"]:
            sys.exit("manifest hash mismatch")
    out = {
        "format": meta["format"], "format_version": meta["format_version"], "tool_version": meta["tool_version"],
        "keys": keys, "manifests": manifests, "doc": doc,
        "sigma_max_repr": [repr(t["sigma_max"]) for t in doc["tensors"]],
        "restrained_u": {t["name"]: f.get_tensor(t["restrained"]["u"]).astype(np.float64).ravel().tolist() for t in doc["tensors"]},
    }
print(json.dumps(out))
