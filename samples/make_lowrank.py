#!/usr/bin/env python3
"""Writes the low-rank deltas the sample manifests use (run once; the output is committed).

deltas.safetensors holds factors in the Hugging Face orientation of gpt2-tiny's Conv1D weights,
which are stored [in, out]: U has one row per input feature, V one per output feature.
  fact_u, fact_v : rank 2 on transformer.h.1.mlp.c_proj.weight  ([1024, 256]), used by edits.jsonl
  more_u, more_v : rank 1 on transformer.h.1.mlp.c_proj.weight  (continues the same tensor), more.jsonl
  more2_u, more2_v : rank 2 on transformer.h.2.attn.c_attn.weight ([256, 768]), more.jsonl
Singular values are chosen above σ_max of the weights (about 8 and 12) so that the PRUNE restraint acts.

usage: python3 samples/make_lowrank.py   (needs numpy and safetensors)
"""
import os

import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2025)


def factors(rows, cols, sigmas):
    u, _ = np.linalg.qr(rng.standard_normal((rows, len(sigmas))))
    v, _ = np.linalg.qr(rng.standard_normal((cols, len(sigmas))))
    return (u * np.array(sigmas)).astype(np.float32), v.astype(np.float32)


t = {}
t["fact_u"], t["fact_v"] = factors(1024, 256, [20.0, 9.0])
t["more_u"], t["more_v"] = factors(1024, 256, [14.0])
t["more2_u"], t["more2_v"] = factors(256, 768, [30.0, 4.0])
save_file(t, os.path.join(here, "deltas.safetensors"), metadata={"format": "pt"})
