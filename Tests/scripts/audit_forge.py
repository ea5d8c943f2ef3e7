#!/usr/bin/env python3
"""Builds the forged sidecar of issue 12, item 1, with the `safetensors` package only (the sidecar
format is public, so anyone can): the sidecar of a malicious run, into which the honest run's
verbatim manifest bytes, raw terms and edit list are copied, every part hash and the document hash
recomputed. Integrity, spectra (same singular values) and hashes of the malicious model all agree;
only the restrained delta itself betrays the forgery.

usage: audit_forge.py HONEST.prune MALICIOUS.prune OUT.prune [--sigma-max-scale S | --output-only]
  --sigma-max-scale S: instead, HONEST with every recorded sigma_max multiplied by S (the
      restrained factors left as they are; for the check of sigma_max against the base weights).
  --output-only: instead, HONEST (its manifest, terms and restrained factors) with the model and
      tensor output hashes and the revert residuals of MALICIOUS: the sidecar is self-consistent
      and names the malicious model as its output; only replaying it on the base shows the lie.
"""
import hashlib, json, sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def load(path):
    with safe_open(path, framework="numpy") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return meta, json.loads(meta["prune"]), tensors


def term_parts(doc):
    names = []
    for t in doc["tensors"]:
        for term in t["terms"]:
            names += [term[k] for k in ("u", "v", "delta") if term.get(k)]
    return names


args = sys.argv[1:]
scale = None
output_only = "--output-only" in args
if output_only:
    args.remove("--output-only")
if "--sigma-max-scale" in args:
    i = args.index("--sigma-max-scale")
    scale = float(args[i + 1])
    del args[i:i + 2]
honest_path, mal_path, out_path = args

h_meta, h_doc, h_tensors = load(honest_path)
if scale is not None:
    meta, doc, tensors = h_meta, h_doc, dict(h_tensors)
    for t in doc["tensors"]:
        t["sigma_max"] = t["sigma_max"] * scale
elif output_only:
    meta, doc, tensors = h_meta, h_doc, dict(h_tensors)
    _, m_doc, m_tensors = load(mal_path)
    doc["model"]["output_sha256"] = m_doc["model"]["output_sha256"]
    by_name = {t["name"]: t for t in m_doc["tensors"]}
    for t in doc["tensors"]:
        m = by_name[t["name"]]
        t["output_sha256"] = m["output_sha256"]
        del tensors[t["residual"]["data"]]
        t["residual"] = m["residual"]
        tensors[m["residual"]["data"]] = m_tensors[m["residual"]["data"]]
else:
    meta, doc, tensors = load(mal_path)
    # The honest manifest bytes, raw terms and edit list.
    for m in h_doc["manifests"]:
        tensors[m["data"]] = h_tensors[m["data"]]
    for name in term_parts(doc):
        tensors.pop(name, None)
    for name in term_parts(h_doc):
        tensors[name] = h_tensors[name]
    doc["manifests"] = h_doc["manifests"]
    doc["edits"] = h_doc["edits"]
    by_name = {t["name"]: t for t in h_doc["tensors"]}
    for t in doc["tensors"]:
        t["terms"] = by_name[t["name"]]["terms"]
# Every part hash and the document hash, recomputed.
doc["parts"] = {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest() for k, v in tensors.items()}
text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
meta["prune"] = text
meta["prune_sha256"] = hashlib.sha256(text.encode()).hexdigest()
save_file(tensors, out_path, metadata=meta)
