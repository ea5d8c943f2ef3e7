"""Shared helpers of the edits_* cross-check scripts: an independent view of the fixtures through
gguf-py and safetensors, and llama.cpp's convert_hf_to_gguf transforms re-implemented in numpy."""
import json
import os

import numpy as np


def is_gguf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"GGUF"


def open_model(path):
    """-> dict(format, arch, n_head, n_head_kv, tensors: {name: (type_name, stored_shape, data)}).
    stored_shape is the container's own: safetensors shape, or GGUF ne list (innermost first).
    data is the array in memory order (GGUF: numpy shape reversed ne)."""
    if is_gguf(path):
        import gguf
        r = gguf.GGUFReader(path)
        def field(name):
            f = r.fields.get(name)
            return None if f is None else f.contents()
        arch = field("general.architecture")
        tensors = {}
        for t in r.tensors:
            tensors[t.name] = (t.tensor_type.name, [int(x) for x in t.shape], t.data)
        return dict(format="gguf", arch=arch,
                    n_head=field(f"{arch}.attention.head_count"),
                    n_head_kv=field(f"{arch}.attention.head_count_kv"),
                    tensors=tensors)
    from safetensors.numpy import load_file
    st = load_file(path)
    cfg_path = os.path.join(os.path.dirname(path), "config.json")
    cfg = json.load(open(cfg_path)) if os.path.exists(cfg_path) else {}
    dt = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64", "int32": "I32"}
    tensors = {k: (dt.get(str(v.dtype), str(v.dtype).upper()), list(v.shape), v) for k, v in st.items()}
    return dict(format="safetensors", arch=cfg.get("model_type"),
                n_head=cfg.get("num_attention_heads", cfg.get("n_head")),
                n_head_kv=cfg.get("num_key_value_heads"), tensors=tensors)


def gguf_name(hf_name, arch):
    """gguf-py's own HF -> GGUF name mapping (gguf/tensor_mapping.py)."""
    import gguf
    a = {"gpt2": gguf.MODEL_ARCH.GPT2, "llama": gguf.MODEL_ARCH.LLAMA}[arch]
    return gguf.get_tensor_name_map(a, 64).get_name(hf_name, try_suffixes=(".weight", ".bias"))


def llama_permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
             .swapaxes(1, 2)
             .reshape(w.shape))


def converter_transform(hf_name, arch, n_head, n_head_kv):
    """The transform convert_hf_to_gguf applies to an HF tensor, as (label, function)."""
    if arch == "gpt2" and hf_name.endswith((".attn.c_attn.weight", ".attn.c_proj.weight",
                                             ".mlp.c_fc.weight", ".mlp.c_proj.weight")):
        return "transposed", lambda w: w.T
    if arch == "llama" and hf_name.endswith(("q_proj.weight", "q_proj.bias")):
        return f"permutedRows:{n_head}", lambda w: llama_permute(w, n_head, n_head)
    if arch == "llama" and hf_name.endswith(("k_proj.weight", "k_proj.bias")):
        h = n_head_kv if n_head_kv is not None and n_head_kv != n_head else n_head
        return f"permutedRows:{h}", lambda w: llama_permute(w, n_head, n_head_kv)
    return "asStored", lambda w: w
