"""A Hugging Face folder from a float llama GGUF, for torch baselines (never run in CI).

  python gguf_to_hf.py MODEL.gguf OUT_DIR

Writes OUT_DIR/config.json, OUT_DIR/model.safetensors (f32) and the tokenizer (transformers'
GGUF tokenizer conversion). llama.cpp's converter permutes the rows of attn_q/attn_k to its
interleaved rotary layout; this undoes it (the inverse of its `permute`), so transformers computes
what llama.cpp computes. Only F32/F16 tensors (dequantize first). Written to a temporary folder,
then renamed.
"""
import json
import os
import shutil
import sys

import numpy as np
import gguf
from safetensors.numpy import save_file


def unpermute(w, heads):
    """llama.cpp's interleaved rotary rows -> HF's first half / second half of each head."""
    rows = w.shape[0]
    half = rows // heads // 2
    return w.reshape(heads, half, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def field(r, key):
    f = r.fields[key]
    v = f.parts[f.data[0]]
    return v.tobytes().decode() if f.types[0] == gguf.GGUFValueType.STRING else v.item()


def main(path, out):
    r = gguf.GGUFReader(path)
    assert field(r, "general.architecture") == "llama", "llama GGUF only"
    layers = field(r, "llama.block_count")
    heads = field(r, "llama.attention.head_count")
    kv = field(r, "llama.attention.head_count_kv")
    d = field(r, "llama.embedding_length")
    names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    per = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
           "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
           "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
    tensors = {}
    for t in r.tensors:
        assert t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16), f"{t.name}: not float"
        a = np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)] if len(t.shape) > 1 else [-1])
        if t.name in names:
            tensors[names[t.name]] = a
            continue
        blk, i, role, kind = t.name.split(".")
        if role == "attn_q":
            a = unpermute(a, heads)
        elif role == "attn_k":
            a = unpermute(a, kv)
        tensors[f"model.layers.{i}.{per[role]}.{kind}"] = np.ascontiguousarray(a)
    vocab = tensors["model.embed_tokens.weight"].shape[0]
    tied = "lm_head.weight" not in tensors
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": d,
        "intermediate_size": field(r, "llama.feed_forward_length"), "num_hidden_layers": layers,
        "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": d // heads, "hidden_act": "silu",
        "max_position_embeddings": field(r, "llama.context_length"),
        "rms_norm_eps": field(r, "llama.attention.layer_norm_rms_epsilon"),
        "rope_theta": field(r, "llama.rope.freq_base") if "llama.rope.freq_base" in r.fields else 10000.0,
        "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": tied, "vocab_size": vocab,
        "bos_token_id": field(r, "tokenizer.ggml.bos_token_id"), "eos_token_id": field(r, "tokenizer.ggml.eos_token_id"),
        "torch_dtype": "float32",
    }
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    save_file(tensors, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
    from transformers import AutoTokenizer
    AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path)).save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
