#!/usr/bin/env python3
"""llama.cpp on the converted architecture GGUFs, against the transformers reference (issue 19).

  arch_llamacpp_check.py FIXTURES [--f32 DIR] [FAMILY ...]   # llama-cpp-python; the tests never run this

For each FIXTURES/<family>/{model-f16.gguf, reference.json}: evaluates every prompt with
logits_all (KV cache in f32), takes llama.cpp's log-softmax at transformers' top-20 ids at every
position, and greedy decodes 8 tokens (argmax, with llama.cpp's KV cache). With --f32, also
DIR/<family>-f32.gguf (the same folder converted with --outtype f32, not checked in). Writes into
reference.json:
  llama_cpp.version, llama_cpp.gguf_sha256
  llama_cpp.max_abs_logprob_diff      the largest |llama.cpp - transformers| over all those entries
  llama_cpp.max_abs_logprob_diff_per_prompt
  llama_cpp.greedy                    per prompt; llama_cpp.greedy_agrees
  llama_cpp.f32_gguf_max_abs_logprob_diff   the same on the f32 GGUF (with --f32)
  llama_cpp.note                      why a family disagrees, where it does (see NOTES)
"""
import hashlib
import json
import os
import sys

import numpy as np
import llama_cpp

NOTES = {
    "mistral": "llama.cpp's llama architecture has no sliding window (the converter writes none for "
               "MistralForCausalLM), so it attends to the whole prompt; positions >= sliding_window (5) differ.",
    "gemma2": "the GGUF has no query_pre_attn_scalar: llama.cpp scales by 1/sqrt(head_dim) (1/sqrt(n_embd/n_head) "
              "only for the 46-layer 27B), while the config says 1/sqrt(24) with head_dim 16.",
    "gpt2": "the GGUF has no scale_attn_by_inverse_layer_idx and llama.cpp's gpt2 graph does not scale layer i's "
            "scores by 1/(i+1); layer 0 agrees, later layers differ.",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def load(gguf):
    # type_k/type_v 0 = GGML_TYPE_F32: an f16 KV cache alone moves log-probabilities by ~3e-3
    return llama_cpp.Llama(model_path=gguf, n_ctx=64, n_batch=64, n_ubatch=64, logits_all=True, n_threads=2,
                           type_k=0, type_v=0, verbose=False)


def max_diff(llm, prompt):
    llm.reset()
    llm.eval(prompt["ids"])
    lp = log_softmax(np.array(llm.scores[:len(prompt["ids"])]))
    d = 0.0
    for t, (tids, tvals) in enumerate(zip(prompt["top_ids"], prompt["top_logprobs"])):
        d = max(d, float(np.max(np.abs(lp[t, tids] - np.array(tvals)))))
    return round(d, 6)


def check(folder, f32_dir):
    gguf = os.path.join(folder, "model-f16.gguf")
    path = os.path.join(folder, "reference.json")
    with open(path) as f:
        ref = json.load(f)
    llm = load(gguf)
    diffs, greedy = [], []
    for p in ref["prompts"]:
        diffs.append(max_diff(llm, p))
        out = []
        for _ in range(len(p["greedy"])):
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            out.append(tok)
            llm.eval([tok])
        greedy.append(out)
    agrees = [g == p["greedy"] for g, p in zip(greedy, ref["prompts"])]
    ref["llama_cpp"] = {
        "version": llama_cpp.__version__, "gguf": "model-f16.gguf", "gguf_sha256": sha256(gguf),
        "max_abs_logprob_diff": max(diffs), "max_abs_logprob_diff_per_prompt": diffs,
        "greedy": greedy, "greedy_agrees": agrees,
    }
    f32 = os.path.join(f32_dir, ref["family"] + "-f32.gguf") if f32_dir else None
    if f32 and os.path.exists(f32):
        llm32 = load(f32)
        ref["llama_cpp"]["f32_gguf_max_abs_logprob_diff"] = max(max_diff(llm32, p) for p in ref["prompts"])
    ref["llama_cpp"]["rounding"] = ("llama.cpp multiplies f16 weights by activations rounded to f16, and ggml's CPU "
                                    "GELU reads an f16 table; an f32 GGUF with an f32 KV cache agrees to ~1e-5 "
                                    "where GELU is not used")
    if ref["family"] in NOTES:
        ref["llama_cpp"]["note"] = NOTES[ref["family"]]
    with open(path, "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"{ref['family']}: max |diff| {max(diffs):.2e} per prompt {diffs}, greedy agrees {agrees}, "
          f"f32 GGUF {ref['llama_cpp'].get('f32_gguf_max_abs_logprob_diff')}")


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: arch_llamacpp_check.py FIXTURES [--f32 DIR] [FAMILY ...]\n")
        return 64
    rest, f32_dir = argv[2:], None
    if rest[:1] == ["--f32"]:
        f32_dir, rest = rest[1], rest[2:]
    fams = rest or sorted(d for d in os.listdir(argv[1]) if os.path.isdir(os.path.join(argv[1], d)))
    for fam in fams:
        check(os.path.join(argv[1], fam), f32_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
