#!/usr/bin/env python3
"""NEEDS llama-cpp-python (built from source) and gguf (neither installed by .ci/install; CI never runs this script: the
Swift test Adapter/AdapterRuntimeReferenceTests reads what it recorded). Made with llama-cpp-python 0.3.36
(/work/llama/venv):

  cd Tests/PruneKitTests/Resources/adapter-reference
  /work/llama/venv/bin/python ../../../scripts/adapter_llamacpp_reference.py ../../../../../shared/fixtures \
      ../../../../.build/release ../../../../samples llamacpp.json

Two edit sets of one ROME fact each (facts-a.jsonl, facts-b.jsonl, with samples/hparams/rome-llama-tiny.json
and the fixture's heldout.txt) on llama-tiny's model-f32.gguf, each exported by prune-apply --adapter as a
llama.cpp adapter (no model written). llama.cpp then runs the base with no adapter, with adapter a and with
adapter b (one at a time), and records at the last position of each fact's prompt the log-probabilities of
the 20 most likely tokens, and the target's first token (where the tokens of prompt + " " + target part
from the prompt's), its log-probability and its rank. Also recorded: the SHA-256 of each adapter's
tensors (name, then bytes, in name order; the metadata holds the prune version) and llama.cpp's token ids."""
import hashlib, json, os, subprocess, sys, tempfile
import numpy as np
import llama_cpp
from llama_cpp import Llama
from gguf import GGUFReader

fixtures, bindir, samples, out = sys.argv[1:5]
here = os.getcwd()
gguf = os.path.join(fixtures, "llama-tiny", "model-f32.gguf")
SETS = ["facts-a.jsonl", "facts-b.jsonl"]


def tensor_digest(path):
    h = hashlib.sha256()
    for t in sorted(GGUFReader(path).tensors, key=lambda t: t.name):
        h.update(t.name.encode() + b"\0")
        h.update(t.data.tobytes())
    return h.hexdigest()


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


facts = []
for name in SETS:
    with open(os.path.join(here, name)) as f:
        facts += [dict(json.loads(line), set=name) for line in f if line.strip()]

with tempfile.TemporaryDirectory() as tmp:
    adapters, digests = {}, {}
    for name in SETS:
        path = os.path.join(tmp, name.replace(".jsonl", ".gguf"))
        subprocess.run([os.path.join(bindir, "prune-apply"), gguf, os.path.join(here, name),
                        "--hparams", os.path.join(samples, "hparams", "rome-llama-tiny.json"),
                        "--stats-text", os.path.join(fixtures, "llama-tiny", "heldout.txt"),
                        "--sidecar", os.path.join(tmp, name + ".prune"), "--adapter", path], check=True)
        adapters[name], digests[name] = path, tensor_digest(path)
    runs = {}
    for label, lora in [("none", None)] + [(n, adapters[n]) for n in SETS]:
        llm = Llama(model_path=gguf, lora_path=lora, n_ctx=64, n_threads=1, logits_all=True, verbose=False, seed=0)
        rows = []
        for fact in facts:
            text = fact["prompt"].replace("{}", fact["subject"])
            ids = llm.tokenize(text.encode(), add_bos=True)
            whole = llm.tokenize((text + " " + fact["target"]).encode(), add_bos=True)
            assert whole[:len(ids)] == ids, (text, ids, whole)
            target = whole[len(ids)]
            llm.reset()
            llm.eval(ids)
            lp = log_softmax(np.array(llm.scores[len(ids) - 1]))
            order = np.argsort(-lp, kind="stable")
            rows.append({"id": fact["id"], "text": text, "ids": [int(i) for i in ids], "target": int(target),
                         "target_rank": int(np.where(order == target)[0][0]), "target_logprob": float(lp[target]),
                         "top": {"ids": [int(i) for i in order[:20]], "logprobs": [float(lp[i]) for i in order[:20]]}})
        runs[label] = rows
        del llm

doc = {"tool": "llama.cpp", "versions": {"llama-cpp-python": llama_cpp.__version__}, "model": "llama-tiny/model-f32.gguf",
       "hparams": "rome-llama-tiny.json", "adapters": [{"manifest": n, "tensors_sha256": digests[n]} for n in SETS],
       "runs": runs}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
