#!/usr/bin/env python3
"""Opens a prune sidecar with the `safetensors` package only (independently of prune), checks the
SHA-256 of every part and of the document, rebuilds every manifest (format 1 and format 2
"verbatim": the bytes themselves; format 2 "template": the zstd-compressed literal runs, decompressed
with the zstd tool, with standard base64 of the quoted parts spliced in), checks their SHA-256, and
prints a JSON summary on stdout. Exit 1 with a message when a hash does not match."""
import base64, hashlib, json, subprocess, sys
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
    def manifest(m):
        data = f.get_tensor(m["data"]).tobytes()
        if m.get("encoding", "verbatim") == "verbatim":
            return data
        literals = subprocess.run(["zstd", "-q", "-d", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
        if len(literals) != m["literal_bytes"]:
            sys.exit("template literal stream has the wrong length")
        out, at = b"", 0
        for piece in m["pieces"]:
            if "literal" in piece:
                out += literals[at:at + piece["literal"]]
                at += piece["literal"]
            else:
                part = f.get_tensor(piece["base64"]).astype("<f4")
                out += base64.b64encode(part.tobytes())
        return out
    manifests = [manifest(m).decode() for m in doc["manifests"]]
    for m, text in zip(doc["manifests"], manifests):
        if hashlib.sha256(text.encode()).hexdigest() != m["sha256"] or len(text.encode()) != m["bytes"]:
            sys.exit("manifest hash mismatch")
    out = {
        "format": meta["format"], "format_version": meta["format_version"], "tool_version": meta["tool_version"],
        "keys": keys, "manifests": manifests, "doc": doc,
        "sigma_max_repr": [repr(t["sigma_max"]) for t in doc["tensors"]],
        "restrained_u": {t["name"]: f.get_tensor(t["restrained"]["u"]).astype(np.float64).ravel().tolist() for t in doc["tensors"]},
    }
print(json.dumps(out))
