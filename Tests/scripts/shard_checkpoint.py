#!/usr/bin/env python3
"""Shards a single-file Hugging Face checkpoint the way transformers' save_pretrained does, without torch.

usage: shard_checkpoint.py SRC_FOLDER DST_FOLDER MAX_SHARD_SIZE_BYTES

What save_pretrained (transformers 5.x, modeling_utils.py) does, step by step, and what this script
does for each step:
- state_dict(): keys in module registration order; tied weights removed (GPT-2's lm_head.weight).
  Here: the order is rebuilt from config.json (model_type gpt2 or llama) following the modules'
  __init__ order in modeling_gpt2.py / modeling_llama.py; every tensor of the source file must be
  placed (the script fails otherwise).
- huggingface_hub.split_state_dict_into_shards_factory(filename_pattern="model{suffix}.safetensors",
  max_shard_size): walk the keys in order; a tensor bigger than the limit gets its own shard; a
  tensor that would tip the current shard over the limit starts a new one. Names
  model-{i:05d}-of-{n:05d}.safetensors; metadata {"total_size": sum of tensor bytes}.
- each shard: safetensors save_file(shard, filename, metadata={"format": "pt"}) (the same Rust
  serializer numpy's save_file uses: tensors sorted by alignment then name).
- index model.safetensors.index.json = json.dumps({"metadata": {"total_parameters": N,
  "total_size": S}, "weight_map": {key: shard}}, indent=2, sort_keys=True) + "\\n".
- config.json, generation_config.json and the tokenizer files are copied.
Prints the shard names, one a line.
"""
import json
import os
import shutil
import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def gpt2_order(cfg):
    keys = ["transformer.wte.weight", "transformer.wpe.weight"]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        keys += [p + "ln_1.weight", p + "ln_1.bias",
                 p + "attn.c_attn.weight", p + "attn.c_attn.bias", p + "attn.c_proj.weight", p + "attn.c_proj.bias",
                 p + "ln_2.weight", p + "ln_2.bias",
                 p + "mlp.c_fc.weight", p + "mlp.c_fc.bias", p + "mlp.c_proj.weight", p + "mlp.c_proj.bias"]
    keys += ["transformer.ln_f.weight", "transformer.ln_f.bias", "lm_head.weight"]
    return keys


def llama_order(cfg):
    keys = ["model.embed_tokens.weight"]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        keys += [p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight",
                 p + "self_attn.o_proj.weight",
                 p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight",
                 p + "input_layernorm.weight", p + "post_attention_layernorm.weight"]
    keys += ["model.norm.weight", "lm_head.weight"]
    return keys


def main():
    src, dst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = json.load(open(os.path.join(src, "config.json")))
    tensors = load_file(os.path.join(src, "model.safetensors"))
    order = {"gpt2": gpt2_order, "llama": llama_order}[cfg["model_type"]](cfg)
    keys = [k for k in order if k in tensors]
    missing = sorted(set(tensors) - set(keys))
    if missing:
        sys.exit(f"tensors not placed by the module order: {missing}")
    # split_state_dict_into_shards_factory
    shards, current, size, total = [], {}, 0, 0
    for k in keys:
        n = tensors[k].nbytes
        if n > limit:
            total += n
            shards.append({k: tensors[k]})
            continue
        if size + n > limit:
            shards.append(current)
            current, size = {}, 0
        current[k] = tensors[k]
        size += n
        total += n
    if current:
        shards.append(current)
    if len(shards) < 2:
        sys.exit("one shard only: save_pretrained would write model.safetensors; lower the limit")
    os.makedirs(dst, exist_ok=True)
    weight_map = {}
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, os.path.join(dst, name), metadata={"format": "pt"})
        for k in shard:
            weight_map[k] = name
        print(name)
    index = {"metadata": {"total_parameters": int(sum(int(np.prod(t.shape)) for t in tensors.values())),
                          "total_size": total},
             "weight_map": weight_map}
    with open(os.path.join(dst, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    for name in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                 "tokenizer.model", "special_tokens_map.json"]:
        if os.path.exists(os.path.join(src, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))


if __name__ == "__main__":
    main()
