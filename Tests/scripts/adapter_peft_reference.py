#!/usr/bin/env python3
"""NEEDS torch, transformers and peft (not installed by .ci/install; CI never runs this script: the Swift
test Adapter/AdapterRuntimeReferenceTests reads what it recorded). Made with torch 2.15, transformers
5.25, peft 0.21 (/work/llama/tvenv):

  cd Tests/PruneKitTests/Resources/adapter-reference
  /work/llama/tvenv/bin/python ../../../scripts/adapter_peft_reference.py ../../../../../shared/fixtures \
      ../../../../.build/release peft.json

For gpt2-tiny and llama-tiny: the checked-in manifest <model>.jsonl (apply_make_manifest.py with --b64) is
applied to the fixture's model.safetensors by prune-apply --adapter (no model written), which writes the
PEFT adapter; transformers + PEFT then load the fixture folder with that adapter and record, at the last
position of each prompt, the logits of the 20 most likely tokens with the adapter and with the adapter
disabled (the base). Also recorded: the SHA-256 of the adapter's tensors (name, then bytes, in name order:
the metadata holds the prune version) so the Swift test knows it recomputed the same adapter, and the
largest |logit| at that position (the scale of the arithmetic tolerance)."""
import hashlib, json, os, subprocess, sys, tempfile
import numpy as np
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer
from peft import PeftModel

fixtures, bindir, out = sys.argv[1:4]
here = os.getcwd()
torch.set_num_threads(2)
PROMPTS = {
    "gpt2-tiny": ["Gril Zardrark lives in the city of", "The quick brown fox", "Hairmath Quuxwond works as a"],
    "llama-tiny": ["Zul Wimli speaks", "The capital of France is", "Hairmath Quuxwond works as a"],
}


def tensor_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    for name in sorted(k for k in header if k != "__metadata__"):
        a, b = header[name]["data_offsets"]
        h.update(name.encode() + b"\0")
        h.update(data[a:b])
    return h.hexdigest()


def top(logits, k=20):
    order = np.argsort(-logits, kind="stable")[:k]
    return {"ids": [int(i) for i in order], "logits": [float(logits[i]) for i in order]}


doc = {"tool": "transformers + peft", "versions": {"torch": torch.__version__,
       "transformers": __import__("transformers").__version__, "peft": __import__("peft").__version__}, "models": []}
for model in ["gpt2-tiny", "llama-tiny"]:
    folder = os.path.join(fixtures, model)
    with tempfile.TemporaryDirectory() as tmp:
        adapter = os.path.join(tmp, "peft")
        subprocess.run([os.path.join(bindir, "prune-apply"), os.path.join(folder, "model.safetensors"),
                        os.path.join(here, model + ".jsonl"), "--sidecar", os.path.join(tmp, "edits.prune"),
                        "--adapter", adapter], check=True)
        digest = tensor_digest(os.path.join(adapter, "adapter_model.safetensors"))
        tok = AutoTokenizer.from_pretrained(folder)
        peft = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32), adapter).eval()
        prompts = []
        for text in PROMPTS[model]:
            ids = tok(text, return_tensors="pt").input_ids
            with torch.no_grad():
                edited = peft(ids).logits[0, -1].double().numpy()
                with peft.disable_adapter():
                    base = peft(ids).logits[0, -1].double().numpy()
            prompts.append({"text": text, "ids": [int(i) for i in ids[0]],
                            "adapter": top(edited), "base": top(base),
                            "adapter_largest": float(np.abs(edited).max()), "base_largest": float(np.abs(base).max()),
                            "moved": float(np.abs(edited - base).max())})
        doc["models"].append({"model": model, "manifest": model + ".jsonl", "adapter_tensors_sha256": digest, "prompts": prompts})
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
