#!/usr/bin/env python3
"""A small random-weights Llama and its logits from an independent numpy (float64) forward, for the
runtime tests of what the fixtures do not cover: `llama3` RoPE scaling (and linear scaling), a
head_dim different from hidden_size / heads, grouped-query attention, tied embeddings, and the
same model as a GGUF file (llama.cpp's q/k row permutation and its rope_freqs tensor).

  runtime_llama_reference.py OUT VARIANT     # VARIANT: llama3 | linear

Writes OUT/hf/{config.json, model.safetensors}, OUT/model.gguf, OUT/reference.json (prompt ids)
and OUT/reference.safetensors (logits.<i>, f32 [T, vocab]).

The forward follows transformers' LlamaForCausalLM: RMSNorm(x) = w * x / sqrt(mean(x^2) + eps);
rotate-half RoPE on q and k with inv_freq = 1 / theta^(2i/head_dim), scaled; causal softmax of
q k^T / sqrt(head_dim) with each kv head shared by heads/kv_heads query heads; SwiGLU MLP.
"""
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import save_file
from gguf import GGUFWriter, RopeScalingType


def variant(name):
    base = dict(vocab=101, d=64, heads=4, kv=2, head_dim=24, ffn=96, layers=2, ctx=256, theta=500000.0, eps=1e-5)
    if name == "llama3":
        base.update(tied=False, scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32})
    elif name == "linear":
        base.update(tied=True, head_dim=16, theta=10000.0, scaling={"rope_type": "linear", "factor": 2.0})
    else:
        sys.exit(f"unknown variant {name}")
    return base


def inv_freq(c):
    hd = c["head_dim"]
    inv = 1.0 / (c["theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    s = c["scaling"]
    if s["rope_type"] == "linear":
        return inv / s["factor"], np.ones_like(inv)
    f, lo, hi, old = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
    factors = []
    for freq in inv:
        wavelen = 2 * math.pi / freq
        if wavelen < old / hi:
            factors.append(1.0)
        elif wavelen > old / lo:
            factors.append(f)
        else:
            smooth = (old / wavelen - lo) / (hi - lo)
            factors.append(1.0 / ((1 - smooth) / f + smooth))
    factors = np.array(factors)
    return inv / factors, factors


def weights(c, rng):
    d, hd, h, kv, f = c["d"], c["head_dim"], c["heads"], c["kv"], c["ffn"]
    W = {"model.embed_tokens.weight": rng.normal(0, 0.5, (c["vocab"], d)),
         "model.norm.weight": 1 + 0.1 * rng.normal(size=d)}
    if not c["tied"]:
        W["lm_head.weight"] = rng.normal(0, 0.2, (c["vocab"], d))
    for l in range(c["layers"]):
        p = f"model.layers.{l}."
        W[p + "input_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        W[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        W[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.25, (h * hd, d))
        W[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.25, (kv * hd, d))
        W[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.2, (kv * hd, d))
        W[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.2, (d, h * hd))
        W[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.2, (f, d))
        W[p + "mlp.up_proj.weight"] = rng.normal(0, 0.2, (f, d))
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 0.2, (d, f))
    # Stored in f32: the reference computes on exactly the stored values.
    return {k: v.astype(np.float32) for k, v in W.items()}


def forward(c, W, ids):
    W = {k: v.astype(np.float64) for k, v in W.items()}
    d, hd, h, kv = c["d"], c["head_dim"], c["heads"], c["kv"]
    T = len(ids)

    def rms(x, w):
        return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + c["eps"]))

    inv, _ = inv_freq(c)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))

    def rope(x):  # x [T, heads, hd]
        half = hd // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], -1)
        return x * cos[:, None, :] + rot * sin[:, None, :]

    x = W["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(c["layers"]):
        p = f"model.layers.{l}."
        a = rms(x, W[p + "input_layernorm.weight"])
        q = rope((a @ W[p + "self_attn.q_proj.weight"].T).reshape(T, h, hd))
        k = rope((a @ W[p + "self_attn.k_proj.weight"].T).reshape(T, kv, hd))
        v = (a @ W[p + "self_attn.v_proj.weight"].T).reshape(T, kv, hd)
        out = np.zeros((T, h, hd))
        for i in range(h):
            g = i // (h // kv)
            s = q[:, i] @ k[:, g].T / math.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            out[:, i] = s @ v[:, g]
        x = x + out.reshape(T, h * hd) @ W[p + "self_attn.o_proj.weight"].T
        m = rms(x, W[p + "post_attention_layernorm.weight"])
        gate = m @ W[p + "mlp.gate_proj.weight"].T
        up = m @ W[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ W[p + "mlp.down_proj.weight"].T
    head = W["model.embed_tokens.weight"] if c["tied"] else W["lm_head.weight"]
    return rms(x, W["model.norm.weight"]) @ head.T


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(path, c, W):
    g = GGUFWriter(path, arch="llama")
    g.add_block_count(c["layers"])
    g.add_context_length(c["ctx"])
    g.add_embedding_length(c["d"])
    g.add_feed_forward_length(c["ffn"])
    g.add_head_count(c["heads"])
    g.add_head_count_kv(c["kv"])
    g.add_rope_freq_base(c["theta"])
    g.add_layer_norm_rms_eps(c["eps"])
    g.add_key_length(c["head_dim"])
    g.add_value_length(c["head_dim"])
    g.add_rope_dimension_count(c["head_dim"])
    g.add_vocab_size(c["vocab"])
    s = c["scaling"]
    if s["rope_type"] == "linear":
        g.add_rope_scaling_type(RopeScalingType.LINEAR)
        g.add_rope_scaling_factor(s["factor"])
    else:
        _, factors = inv_freq(c)
        g.add_tensor("rope_freqs.weight", factors.astype(np.float32))
    g.add_tensor("token_embd.weight", W["model.embed_tokens.weight"])
    g.add_tensor("output_norm.weight", W["model.norm.weight"])
    if not c["tied"]:
        g.add_tensor("output.weight", W["lm_head.weight"])
    for l in range(c["layers"]):
        p, b = f"model.layers.{l}.", f"blk.{l}."
        g.add_tensor(b + "attn_norm.weight", W[p + "input_layernorm.weight"])
        g.add_tensor(b + "attn_q.weight", np.ascontiguousarray(permute(W[p + "self_attn.q_proj.weight"], c["heads"])))
        g.add_tensor(b + "attn_k.weight", np.ascontiguousarray(permute(W[p + "self_attn.k_proj.weight"], c["kv"])))
        g.add_tensor(b + "attn_v.weight", W[p + "self_attn.v_proj.weight"])
        g.add_tensor(b + "attn_output.weight", W[p + "self_attn.o_proj.weight"])
        g.add_tensor(b + "ffn_norm.weight", W[p + "post_attention_layernorm.weight"])
        g.add_tensor(b + "ffn_gate.weight", W[p + "mlp.gate_proj.weight"])
        g.add_tensor(b + "ffn_up.weight", W[p + "mlp.up_proj.weight"])
        g.add_tensor(b + "ffn_down.weight", W[p + "mlp.down_proj.weight"])
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def main():
    out, name = sys.argv[1], sys.argv[2]
    c = variant(name)
    rng = np.random.default_rng(1234)
    W = weights(c, rng)
    os.makedirs(os.path.join(out, "hf"), exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": c["vocab"],
              "hidden_size": c["d"], "num_hidden_layers": c["layers"], "num_attention_heads": c["heads"],
              "num_key_value_heads": c["kv"], "head_dim": c["head_dim"], "intermediate_size": c["ffn"],
              "max_position_embeddings": c["ctx"], "rms_norm_eps": c["eps"], "hidden_act": "silu",
              "rope_theta": c["theta"], "rope_scaling": c["scaling"], "tie_word_embeddings": c["tied"],
              "bos_token_id": 1, "eos_token_id": 2}
    json.dump(config, open(os.path.join(out, "hf", "config.json"), "w"), indent=1)
    save_file(W, os.path.join(out, "hf", "model.safetensors"), metadata={"format": "pt"})
    write_gguf(os.path.join(out, "model.gguf"), c, W)
    prompts = [rng.integers(0, c["vocab"], 70).tolist(), rng.integers(0, c["vocab"], 45).tolist(), [5]]
    refs = {f"logits.{i}": forward(c, W, p).astype(np.float32) for i, p in enumerate(prompts)}
    # The scaling must matter on these prompts, or the test would not check it.
    plain = dict(c, scaling={"rope_type": "linear", "factor": 1.0})
    effect = max(float(np.abs(forward(plain, W, p) - refs[f"logits.{i}"]).max()) for i, p in enumerate(prompts))
    if effect < 1e-2:
        sys.exit(f"the {name} scaling changes the logits by only {effect}")
    save_file(refs, os.path.join(out, "reference.safetensors"))
    json.dump({"prompts": prompts}, open(os.path.join(out, "reference.json"), "w"))


if __name__ == "__main__":
    main()
