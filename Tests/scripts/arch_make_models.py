#!/usr/bin/env python3
"""Random-weight Hugging Face folders, one per architecture family, for the runtime's logit tests
(issue 19). numpy + safetensors + json only (no torch), so CI can regenerate them.

  arch_make_models.py OUTDIR [FAMILY ...]      # default: every family

Writes OUTDIR/<family>/{config.json, generation_config.json, model.safetensors, tokenizer files}.
Deterministic: numpy default_rng(seed of the family); every weight is rounded to a value that f16
holds exactly and stored as f32, so `convert_hf_to_gguf.py --outtype f16` keeps the same numbers.
Tests/fixtures/architectures/<family>/reference.json records the sha256 of the model.safetensors it
was computed on (`model_sha256`).

Tokenizers (tiny, ~512 entries, learnt here by a few BPE merges over a built-in text):
- byte-level BPE tokenizer.json (llama, qwen2, qwen3, gpt2): the 256 byte symbols, merges, specials;
  the GGUFs were converted with the pre-tokenizer pinned to "gpt-2" (arch_convert.py), the regex
  this tokenizer.json's ByteLevel pre-tokenizer uses.
- SentencePiece BPE tokenizer.model with byte fallback (mistral, phi3, gemma2, gemma3), written as
  protobuf by hand (the fields sentencepiece reads).

Features per family (see FAMILIES): llama GQA + llama3 RoPE scaling + untied head + BOS; mistral
sliding window 5 + GQA; qwen2 q/k/v biases + tied; qwen3 QK-norm + head_dim != hidden/heads;
phi3 fused qkv_proj and gate_up_proj + partial rotary 0.5; gemma2 softcaps 5/3, query_pre_attn_scalar
!= head_dim, alternating window 5, sandwich norms; gemma3 QK-norm, 5 sliding : 1 full layers, local
base != global base, linear scaling on global layers, window 5; gpt2 Conv1D with
scale_attn_by_inverse_layer_idx.
"""
import json
import os
import re
import struct
import sys

import numpy as np
from safetensors.numpy import save_file

VOCAB = 512

CORPUS = """The quick brown fox jumps over the lazy dog. Paris is the capital of France, and Rome is
the capital of Italy. She speaks English and French; he works as a teacher in the city. A model of
language predicts the next token from the tokens before it. Water boils at one hundred degrees.
The river runs through the old town, where the market opens every morning at nine. Numbers: 1 2 3
10 20 42 100 2024. Questions? Answers! The people of the north write poems about the sea and the
mountains, and their songs are known in every country of the world. Berlin, Madrid, Lisbon, Vienna,
Warsaw and Prague are cities of Europe; Tokyo, Seoul, Delhi and Cairo are far away. My grandmother
baked bread while my brother played violin, singing quietly; everybody laughed, joking happily.
Scientists measured temperatures, pressures and velocities during experiments with crystals."""


# ---------------------------------------------------------------- weights

def f16_exact(x):
    return np.asarray(x, dtype=np.float16).astype(np.float32)


class Weights:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.tensors = {}

    def normal(self, name, shape, std):
        self.tensors[name] = f16_exact(self.rng.normal(0.0, std, size=shape))

    def norm(self, name, n, offset=1.0, std=0.1):
        """A norm weight of offset + noise (Gemma stores w with 1 + w applied, so offset 0 there)."""
        self.tensors[name] = f16_exact(offset + self.rng.normal(0.0, std, size=(n,)))


# ---------------------------------------------------------------- tokenizers

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def learn_merges(words, count):
    """Plain BPE over a list of symbol sequences; ties broken by the pair's text, so deterministic."""
    seqs = [list(w) for w in words]
    merges = []
    while len(merges) < count:
        pairs = {}
        for s in seqs:
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + 1
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        joined = best[0] + best[1]
        for s in seqs:
            i = 0
            while i < len(s) - 1:
                if s[i] == best[0] and s[i + 1] == best[1]:
                    s[i:i + 2] = [joined]
                i += 1
    return merges


def pretokenize(text):
    return re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", text)


def bpe_tokenizer_json(specials, bos=None):
    """Byte-level BPE of VOCAB entries: 256 byte symbols, merges, then `specials` as added tokens."""
    b2u = bytes_to_unicode()
    words = ["".join(b2u[b] for b in w.encode()) for w in pretokenize(CORPUS)]
    vocab = {b2u[b]: i for i, b in enumerate(range(256))}
    merges = []
    for a, b in learn_merges(words, 10 * VOCAB):
        if len(vocab) == VOCAB - len(specials):
            break
        merges.append((a, b))
        vocab.setdefault(a + b, len(vocab))
    assert len(vocab) == VOCAB - len(specials), len(vocab)
    added = []
    for s in specials:
        added.append({"id": len(vocab), "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
        vocab[s] = len(vocab)
    post = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    if bos is not None:
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {bos: {"id": bos, "ids": [vocab[bos]], "tokens": [bos]}}}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": post,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }


def _varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, wire, payload):
    key = _varint((num << 3) | wire)
    if wire == 0:
        return key + _varint(payload)
    if wire == 5:
        return key + struct.pack("<f", payload)
    return key + _varint(len(payload)) + payload


def spm_model(specials, add_dummy_prefix):
    """A SentencePiece BPE ModelProto: `specials` [(piece, type)], the 256 <0xNN> byte pieces, then
    pieces learnt over the corpus (spaces as U+2581), scored by merge rank."""
    text = CORPUS.replace("\n", " ")
    words = ["\u2581" + w for w in text.split(" ") if w]
    merges = learn_merges(words, 10 * VOCAB)
    chars = sorted({c for w in words for c in w})
    pieces = list(specials) + [(f"<0x{b:02X}>", 6) for b in range(256)]
    seen = {p for p, _ in pieces}
    normal = []
    for c in chars:
        if c not in seen:
            seen.add(c)
            normal.append(c)
    for a, b in merges:
        if len(pieces) + len(normal) >= VOCAB:
            break
        if a + b not in seen:
            seen.add(a + b)
            normal.append(a + b)
    assert len(pieces) + len(normal) == VOCAB, len(pieces) + len(normal)
    body = b""
    for p, t in pieces:
        body += _field(1, 2, _field(1, 2, p.encode()) + _field(2, 5, 0.0) + _field(3, 0, t))
    for i, p in enumerate(normal):
        body += _field(1, 2, _field(1, 2, p.encode()) + _field(2, 5, -float(i)) + _field(3, 0, 1))
    ids = {t: i for i, (p, t) in enumerate(pieces) if t in (2,)}
    names = {p: i for i, (p, _) in enumerate(pieces)}
    trainer = (_field(3, 0, 2) + _field(4, 0, VOCAB) + _field(35, 0, 1) + _field(40, 0, ids[2]) +
               _field(41, 0, names.get("<bos>", names.get("<s>"))) + _field(42, 0, names.get("<eos>", names.get("</s>"))) +
               _field(43, 0, names.get("<pad>", -1)))
    normalizer = (_field(1, 2, b"identity") + _field(3, 0, int(add_dummy_prefix)) + _field(4, 0, 0) +
                  _field(5, 0, 1))
    return body + _field(2, 2, trainer) + _field(3, 2, normalizer)


LLAMA_SPM = [("<unk>", 2), ("<s>", 3), ("</s>", 3)]
GEMMA_SPM = [("<pad>", 3), ("<eos>", 3), ("<bos>", 3), ("<unk>", 2)]
# llama.cpp's vocabulary loader looks up <|endoftext|> in any model named phi3 (Phi-3's EOS)
PHI3_SPM = LLAMA_SPM + [("<|endoftext|>", 3)]


# ---------------------------------------------------------------- families

def llama_like(w, c, q_bias=False, qk_norm=False, tied=False, fused=False):
    d, h, kv, hd, f = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["intermediate_size"]
    w.normal("model.embed_tokens.weight", (VOCAB, d), 0.5)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w.norm(p + "input_layernorm.weight", d)
        if fused:
            w.normal(p + "self_attn.qkv_proj.weight", ((h + 2 * kv) * hd, d), 0.2)
        else:
            w.normal(p + "self_attn.q_proj.weight", (h * hd, d), 0.2)
            w.normal(p + "self_attn.k_proj.weight", (kv * hd, d), 0.2)
            w.normal(p + "self_attn.v_proj.weight", (kv * hd, d), 0.2)
        if q_bias:
            w.normal(p + "self_attn.q_proj.bias", (h * hd,), 0.2)
            w.normal(p + "self_attn.k_proj.bias", (kv * hd,), 0.2)
            w.normal(p + "self_attn.v_proj.bias", (kv * hd,), 0.2)
        if qk_norm:
            w.norm(p + "self_attn.q_norm.weight", hd)
            w.norm(p + "self_attn.k_norm.weight", hd)
        w.normal(p + "self_attn.o_proj.weight", (d, h * hd), 0.2)
        w.norm(p + "post_attention_layernorm.weight", d)
        if fused:
            w.normal(p + "mlp.gate_up_proj.weight", (2 * f, d), 0.2)
        else:
            w.normal(p + "mlp.gate_proj.weight", (f, d), 0.2)
            w.normal(p + "mlp.up_proj.weight", (f, d), 0.2)
        w.normal(p + "mlp.down_proj.weight", (d, f), 0.15)
    w.norm("model.norm.weight", d)
    if not tied:
        w.normal("lm_head.weight", (VOCAB, d), 0.4)


def gemma_like(w, c, qk_norm):
    d, h, kv, hd, f = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["intermediate_size"]
    # embeddings are multiplied by sqrt(d): keep the scaled rows of order 1
    w.normal("model.embed_tokens.weight", (VOCAB, d), 0.25)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"):
            w.norm(p + n + ".weight", d, offset=0.0, std=0.15)
        w.normal(p + "self_attn.q_proj.weight", (h * hd, d), 0.25)
        w.normal(p + "self_attn.k_proj.weight", (kv * hd, d), 0.25)
        w.normal(p + "self_attn.v_proj.weight", (kv * hd, d), 0.2)
        w.normal(p + "self_attn.o_proj.weight", (d, h * hd), 0.2)
        if qk_norm:
            w.norm(p + "self_attn.q_norm.weight", hd, offset=0.0, std=0.15)
            w.norm(p + "self_attn.k_norm.weight", hd, offset=0.0, std=0.15)
        w.normal(p + "mlp.gate_proj.weight", (f, d), 0.2)
        w.normal(p + "mlp.up_proj.weight", (f, d), 0.2)
        w.normal(p + "mlp.down_proj.weight", (d, f), 0.15)
    w.norm("model.norm.weight", d, offset=0.0, std=0.15)


def gpt2_weights(w, c):
    d, f, P = c["n_embd"], c["n_inner"], c["n_positions"]
    w.normal("transformer.wte.weight", (VOCAB, d), 0.5)
    w.normal("transformer.wpe.weight", (P, d), 0.1)
    for i in range(c["n_layer"]):
        p = f"transformer.h.{i}."
        for n in ("ln_1", "ln_2"):
            w.norm(p + n + ".weight", d)
            w.normal(p + n + ".bias", (d,), 0.05)
        w.normal(p + "attn.c_attn.weight", (d, 3 * d), 0.25)      # Conv1D: [in, out]
        w.normal(p + "attn.c_attn.bias", (3 * d,), 0.1)
        w.normal(p + "attn.c_proj.weight", (d, d), 0.2)
        w.normal(p + "attn.c_proj.bias", (d,), 0.05)
        w.normal(p + "mlp.c_fc.weight", (d, f), 0.2)
        w.normal(p + "mlp.c_fc.bias", (f,), 0.1)
        w.normal(p + "mlp.c_proj.weight", (f, d), 0.15)
        w.normal(p + "mlp.c_proj.bias", (d,), 0.05)
    w.norm("transformer.ln_f.weight", d)
    w.normal("transformer.ln_f.bias", (d,), 0.05)


def common(arch, model_type, **kw):
    base = dict(architectures=[arch], model_type=model_type, vocab_size=VOCAB, torch_dtype="float32",
                max_position_embeddings=256, use_cache=True)
    base.update(kw)
    return base


FAMILIES = {
    "llama": dict(seed=1901, tok=("bpe", ["<|begin_of_text|>", "<|end_of_text|>"]), bos=True, config=common(
        "LlamaForCausalLM", "llama", hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
        intermediate_size=64, num_hidden_layers=2, rms_norm_eps=1e-5, hidden_act="silu", tie_word_embeddings=False,
        attention_bias=False, mlp_bias=False,
        rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 128})),
    "mistral": dict(seed=1902, tok=("spm", LLAMA_SPM, True), bos=True, config=common(
        "MistralForCausalLM", "mistral", hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
        intermediate_size=64, num_hidden_layers=2, rms_norm_eps=1e-5, hidden_act="silu", tie_word_embeddings=False,
        sliding_window=5, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})),
    "qwen2": dict(seed=1903, tok=("bpe", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]), bos=False, config=common(
        "Qwen2ForCausalLM", "qwen2", hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=64, num_hidden_layers=2, rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=True,
        use_sliding_window=False, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})),
    "qwen3": dict(seed=1904, tok=("bpe", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]), bos=False, config=common(
        "Qwen3ForCausalLM", "qwen3", hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        intermediate_size=64, num_hidden_layers=2, rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=False,
        attention_bias=False, use_sliding_window=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})),
    "phi3": dict(seed=1905, tok=("spm", PHI3_SPM, True), bos=False, config=common(
        "Phi3ForCausalLM", "phi3", hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=64, num_hidden_layers=2, rms_norm_eps=1e-5, hidden_act="silu", tie_word_embeddings=False,
        original_max_position_embeddings=256, sliding_window=None, resid_pdrop=0.0, embd_pdrop=0.0,
        attention_dropout=0.0, pad_token_id=None, bos_token_id=1, eos_token_id=3,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5})),
    "gemma2": dict(seed=1906, tok=("spm", GEMMA_SPM, False), bos=True, config=common(
        "Gemma2ForCausalLM", "gemma2", hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        intermediate_size=64, num_hidden_layers=3, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
        tie_word_embeddings=True, query_pre_attn_scalar=24, attn_logit_softcapping=5.0,
        final_logit_softcapping=3.0, sliding_window=5, pad_token_id=0, eos_token_id=1, bos_token_id=2,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0})),
    "gemma3": dict(seed=1907, tok=("spm", GEMMA_SPM, False), bos=True, config=common(
        "Gemma3ForCausalLM", "gemma3_text", hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
        intermediate_size=48, num_hidden_layers=6, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
        tie_word_embeddings=True, query_pre_attn_scalar=8, sliding_window=5, pad_token_id=0, eos_token_id=1,
        bos_token_id=2, final_logit_softcapping=None, attn_logit_softcapping=None,
        layer_types=["sliding_attention"] * 5 + ["full_attention"],
        rope_parameters={"full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 1000000.0},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})),
    "gpt2": dict(seed=1908, tok=("bpe", ["<|endoftext|>"]), bos=False, config=dict(
        architectures=["GPT2LMHeadModel"], model_type="gpt2", vocab_size=VOCAB, n_embd=32, n_head=4, n_layer=2,
        n_inner=128, n_positions=64, n_ctx=64, activation_function="gelu_new", layer_norm_epsilon=1e-5,
        scale_attn_weights=True, scale_attn_by_inverse_layer_idx=True, reorder_and_upcast_attn=False,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True, torch_dtype="float32",
        bos_token_id=VOCAB - 1, eos_token_id=VOCAB - 1)),
}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def make(family, out):
    spec = FAMILIES[family]
    c = json.loads(json.dumps(spec["config"]))
    os.makedirs(out, exist_ok=True)
    tok = spec["tok"]
    if tok[0] == "bpe":
        specials = tok[1]
        bos = specials[0] if spec["bos"] else None
        write_json(os.path.join(out, "tokenizer.json"), bpe_tokenizer_json(specials, bos))
        eos_id = VOCAB - len(specials) + (1 if spec["bos"] else 0)
        if family != "gpt2":
            c.update(bos_token_id=VOCAB - len(specials), eos_token_id=eos_id)
        tcfg = {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": spec["bos"],
                "bos_token": specials[0] if spec["bos"] else None, "eos_token": specials[eos_id - (VOCAB - len(specials))],
                "model_max_length": 256, "clean_up_tokenization_spaces": False}
        if family == "gpt2":
            tcfg["tokenizer_class"] = "GPT2TokenizerFast"
    else:
        specials, add_dummy_prefix = tok[1], tok[2]
        with open(os.path.join(out, "tokenizer.model"), "wb") as f:
            f.write(spm_model(specials, add_dummy_prefix))
        names = {p: i for i, (p, _) in enumerate(specials)}
        bos, eos = ("<bos>", "<eos>") if "<bos>" in names else ("<s>", "</s>")
        c.setdefault("bos_token_id", names[bos])
        c.setdefault("eos_token_id", names[eos])
        tcfg = {"tokenizer_class": "GemmaTokenizer" if family.startswith("gemma") else "LlamaTokenizer",
                "add_bos_token": spec["bos"], "add_eos_token": False, "bos_token": bos, "eos_token": eos,
                "unk_token": "<unk>", "model_max_length": 256}
        if "<pad>" in names:
            tcfg["pad_token"] = "<pad>"
    write_json(os.path.join(out, "tokenizer_config.json"), tcfg)
    write_json(os.path.join(out, "config.json"), c)
    write_json(os.path.join(out, "generation_config.json"),
               {"bos_token_id": c.get("bos_token_id"), "eos_token_id": c.get("eos_token_id"), "do_sample": False})
    w = Weights(spec["seed"])
    if family == "gpt2":
        gpt2_weights(w, c)
    elif family.startswith("gemma"):
        gemma_like(w, c, qk_norm=family == "gemma3")
    else:
        c2 = dict(c)
        c2.setdefault("head_dim", c["hidden_size"] // c["num_attention_heads"])
        llama_like(w, c2, q_bias=family == "qwen2", qk_norm=family == "qwen3",
                   tied=c.get("tie_word_embeddings", False), fused=family == "phi3")
    save_file(w.tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: arch_make_models.py OUTDIR [FAMILY ...]\n")
        return 64
    families = argv[2:] or list(FAMILIES)
    for fam in families:
        if fam not in FAMILIES:
            sys.stderr.write(f"arch_make_models.py: unknown family '{fam}' (known: {', '.join(FAMILIES)})\n")
            return 64
        make(fam, os.path.join(argv[1], fam))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
