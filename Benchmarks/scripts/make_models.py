"""Random-weight models for the runtime benchmark (never run in CI).

  python3 make_models.py gguf llama-1b OUT.gguf        Llama-shaped Q8_0 GGUF: 24 layers, d 2048, ffn 8192,
                                                       GQA 32/8, vocab 32000 (SentencePiece), ~1.7 GB
  python3 make_models.py gguf llama3.2-1b OUT.gguf     Llama-3.2-1B shape in Q8_0: 16 layers, d 2048, ffn 8192,
                                                       GQA 32/8, head_dim 64, vocab 128256 (llama-bpe), tied
                                                       embeddings, rope theta 500000, ~1.3 GB
  python3 make_models.py q4_k_m IN.gguf OUT.gguf       IN (Q8_0 or F16) requantized to Q4_K_M by llama.cpp's own
                                                       quantizer (llama_cpp.llama_model_quantize; run it with
                                                       /work/llama/venv/bin/python, llama-cpp-python)
  python3 make_models.py cache                         the benchmark's files in ~/.cache/prune-bench/ (made once):
                                                       llama-1b-q8_0.gguf, llama3.2-1b-q8_0.gguf,
                                                       llama3.2-1b-q4_k_m.gguf (run with the llama venv)
  python3 make_models.py gguf llama3-8b OUT.gguf       Llama-3-8B shape in Q8_0: 32 layers, d 4096, ffn 14336,
                                                       GQA 32/8, vocab 128256 (byte-level BPE, llama-bpe), ~8.5 GB
  python3 make_models.py smol OUT_DIR                  SmolLM-135M shape: 30 layers, d 576, ffn 1536, GQA 9/3,
                                                       head_dim 64, vocab 49152, tied embeddings; OUT_DIR/hf
                                                       (config.json, f32 model.safetensors, tokenizer.json),
                                                       OUT_DIR/model-f32.gguf and OUT_DIR/model-q8_0.gguf

Every file is complete: llama metadata and a valid tokenizer (bench_vocab.py), so transformers and
llama.cpp load them as they load real models. GGUF files are written with the `gguf` package (Q8_0
blocks by gguf.quants) the way llama.cpp's converter lays them out: HF [out, in] matrices, q/k rows
permuted to llama.cpp's rotary layout, 1-D norms in F32. Weights are uniform with the standard
deviation of a 0.02-normal initialisation (RMSNorm weights 1), drawn from a per-tensor seed, so the
same command gives the same file. Written to a temporary name, then renamed.
"""
import json
import os
import sys
import zlib

import numpy as np
import gguf
from gguf.quants import quantize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vocab  # noqa: E402

SHAPES = {
    # name: layers, d, ffn, heads, kv heads, head_dim, vocab, context, rope theta, tokenizer, tied
    "llama-1b": dict(layers=24, d=2048, ffn=8192, heads=32, kv=8, head_dim=64, vocab=32000, ctx=4096,
                     theta=10000.0, tok="sentencepiece", tied=False, name="Bench Llama 1.6B"),
    "llama3.2-1b": dict(layers=16, d=2048, ffn=8192, heads=32, kv=8, head_dim=64, vocab=128256, ctx=8192,
                        theta=500000.0, tok="llama-bpe", tied=True, name="Bench Llama-3.2 1B"),
    "llama3-8b": dict(layers=32, d=4096, ffn=14336, heads=32, kv=8, head_dim=128, vocab=128256, ctx=8192,
                      theta=500000.0, tok="llama-bpe", tied=False, name="Bench Llama-3 8B"),
    "smol-135m": dict(layers=30, d=576, ffn=1536, heads=9, kv=3, head_dim=64, vocab=49152, ctx=2048,
                      theta=10000.0, tok="smollm", tied=True, name="Bench SmolLM 135M"),
}
STD = 0.02
ROWS_PER_CHUNK = 2048


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def random_rows(rng, rows, cols):
    """Uniform values with standard deviation STD."""
    a = rng.random((rows, cols), dtype=np.float32)
    a -= 0.5
    a *= np.float32(STD * np.sqrt(12.0))
    return a


def permute_rotary(w, heads):
    """HF's rotary layout (first half / second half of each head) -> llama.cpp's interleaved pairs."""
    rows = w.shape[0]
    half = rows // heads // 2
    return w.reshape(heads, 2, half, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def tensor_plan(s):
    """(gguf name, hf name, [out, in] or [n], rotary heads or None) in llama.cpp's order."""
    d, f, hd = s["d"], s["ffn"], s["head_dim"]
    q, kv = s["heads"] * hd, s["kv"] * hd
    plan = [("token_embd.weight", "model.embed_tokens.weight", [s["vocab"], d], None)]
    for i in range(s["layers"]):
        b, h = f"blk.{i}.", f"model.layers.{i}."
        plan += [
            (b + "attn_norm.weight", h + "input_layernorm.weight", [d], None),
            (b + "attn_q.weight", h + "self_attn.q_proj.weight", [q, d], s["heads"]),
            (b + "attn_k.weight", h + "self_attn.k_proj.weight", [kv, d], s["kv"]),
            (b + "attn_v.weight", h + "self_attn.v_proj.weight", [kv, d], None),
            (b + "attn_output.weight", h + "self_attn.o_proj.weight", [d, q], None),
            (b + "ffn_norm.weight", h + "post_attention_layernorm.weight", [d], None),
            (b + "ffn_gate.weight", h + "mlp.gate_proj.weight", [f, d], None),
            (b + "ffn_up.weight", h + "mlp.up_proj.weight", [f, d], None),
            (b + "ffn_down.weight", h + "mlp.down_proj.weight", [d, f], None),
        ]
    plan.append(("output_norm.weight", "model.norm.weight", [d], None))
    if not s["tied"]:
        plan.append(("output.weight", "lm_head.weight", [s["vocab"], d], None))
    return plan


def hf_values(hf_name, shape):
    """The HF-layout f32 values of one tensor (deterministic)."""
    if len(shape) == 1:
        return np.ones(shape, dtype=np.float32)
    return random_rows(rng_for(hf_name), shape[0], shape[1])


def gguf_values(hf_name, shape, rotary, qtype):
    """The tensor as stored in the GGUF (rows quantized chunk by chunk to bound memory)."""
    if len(shape) == 1:
        return np.ones(shape, dtype=np.float32)
    rows, cols = shape
    rng = rng_for(hf_name)
    if qtype == gguf.GGMLQuantizationType.F32:
        w = random_rows(rng, rows, cols)
        return permute_rotary(w, rotary) if rotary else w
    if rotary:  # small enough to permute whole
        return quantize(permute_rotary(random_rows(rng, rows, cols), rotary), qtype)
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    out = np.empty((rows, cols // block * size), dtype=np.uint8)
    for r0 in range(0, rows, ROWS_PER_CHUNK):
        n = min(ROWS_PER_CHUNK, rows - r0)
        out[r0:r0 + n] = quantize(random_rows(rng, n, cols), qtype)
    return out


def write_gguf(s, path, qtype):
    tmp = path + ".partial"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_type("model")
    w.add_name(s["name"])
    w.add_block_count(s["layers"])
    w.add_context_length(s["ctx"])
    w.add_embedding_length(s["d"])
    w.add_feed_forward_length(s["ffn"])
    w.add_head_count(s["heads"])
    w.add_head_count_kv(s["kv"])
    w.add_rope_freq_base(s["theta"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_key_length(s["head_dim"])
    w.add_value_length(s["head_dim"])
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if qtype == gguf.GGMLQuantizationType.Q8_0 else gguf.LlamaFileType.ALL_F32)
    w.add_vocab_size(s["vocab"])
    w.add_rope_dimension_count(s["head_dim"])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if s["tok"] == "sentencepiece":
        bench_vocab.add_sentencepiece_metadata(w, s["vocab"])
    else:
        bench_vocab.add_bpe_metadata(w, s["vocab"], s["tok"])
    plan = tensor_plan(s)
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    for gname, _, shape, _ in plan:
        if len(shape) == 1 or qtype == gguf.GGMLQuantizationType.F32:
            n = int(np.prod(shape)) * 4
            w.add_tensor_info(gname, shape, np.dtype(np.float32), n)
        else:
            rows, cols = shape
            w.add_tensor_info(gname, [rows, cols // block * size], np.dtype(np.uint8), rows * cols // block * size, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for k, (gname, hname, shape, rotary) in enumerate(plan):
        w.write_tensor_data(gguf_values(hname, shape, rotary, qtype))
        if k % 20 == 0:
            print(f"  {gname}", file=sys.stderr, flush=True)
    w.close()
    os.replace(tmp, path)


def write_hf(s, folder):
    from safetensors.numpy import save_file
    os.makedirs(folder, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": s["d"], "intermediate_size": s["ffn"], "num_hidden_layers": s["layers"],
        "num_attention_heads": s["heads"], "num_key_value_heads": s["kv"], "head_dim": s["head_dim"],
        "hidden_act": "silu", "max_position_embeddings": s["ctx"], "rms_norm_eps": 1e-5,
        "rope_parameters": {"rope_theta": s["theta"], "rope_type": "default"},
        "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": s["tied"],
        "vocab_size": s["vocab"], "bos_token_id": 0, "eos_token_id": 0, "dtype": "float32",
        "use_cache": True,
    }
    tensors = {hname: hf_values(hname, shape) for _, hname, shape, _ in tensor_plan(s)}
    tmp = os.path.join(folder, "model.safetensors.partial")
    save_file(tensors, tmp, metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(bench_vocab.bpe_tokenizer_json(s["vocab"]), f, ensure_ascii=False)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>",
                   "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "model_max_length": s["ctx"]}, f, indent=2)
    os.chmod(tmp, 0o644)
    os.replace(tmp, os.path.join(folder, "model.safetensors"))


def quantize_q4_k_m(source, path):
    """`source` requantized to Q4_K_M by llama.cpp (llama-cpp-python's binding of llama_model_quantize),
    the quantizer llama.cpp's own files come from; written to a temporary name, then renamed."""
    import ctypes
    import llama_cpp
    tmp = path + ".partial"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    rc = llama_cpp.llama_model_quantize(source.encode(), tmp.encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f"{source}: llama_model_quantize failed ({rc})")
    os.replace(tmp, path)


CACHE = os.path.expanduser("~/.cache/prune-bench")


def cache():
    """The benchmark's synthetic models in ~/.cache/prune-bench/ (each made once; never in the repository)."""
    os.makedirs(CACHE, exist_ok=True)
    made = []
    for shape in ("llama-1b", "llama3.2-1b"):
        path = os.path.join(CACHE, f"{shape}-q8_0.gguf")
        if not os.path.exists(path):
            write_gguf(SHAPES[shape], path, gguf.GGMLQuantizationType.Q8_0)
        made.append(path)
    q4 = os.path.join(CACHE, "llama3.2-1b-q4_k_m.gguf")
    if not os.path.exists(q4):
        quantize_q4_k_m(os.path.join(CACHE, "llama3.2-1b-q8_0.gguf"), q4)
    made.append(q4)
    for p in made:
        print(f"{p}: {os.path.getsize(p) / 2**20:.0f} MiB")


def main(argv):
    if len(argv) == 3 and argv[0] == "gguf" and argv[1] in ("llama-1b", "llama3.2-1b", "llama3-8b"):
        write_gguf(SHAPES[argv[1]], argv[2], gguf.GGMLQuantizationType.Q8_0)
    elif len(argv) == 3 and argv[0] == "q4_k_m":
        quantize_q4_k_m(argv[1], argv[2])
    elif argv == ["cache"]:
        cache()
    elif len(argv) == 2 and argv[0] == "smol":
        s, out = SHAPES["smol-135m"], argv[1]
        write_hf(s, os.path.join(out, "hf"))
        write_gguf(s, os.path.join(out, "model-f32.gguf"), gguf.GGMLQuantizationType.F32)
        write_gguf(s, os.path.join(out, "model-q8_0.gguf"), gguf.GGMLQuantizationType.Q8_0)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
