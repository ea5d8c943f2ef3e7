#!/usr/bin/env python3
"""Reference token ids for the PruneTokenizers tests, from the models' own libraries.

  hf FOLDER TEXTS.json            Hugging Face: `tokenizers` on tokenizer.json (ids without special
                                  tokens, decode) and transformers AutoTokenizer (ids with them)
  sp MODEL TEXTS.json [--bos ID]  sentencepiece on tokenizer.model; control and unknown piece strings
                                  in a text become their tokens (leftmost-longest), each fragment
                                  between them is encoded on its own (as transformers and llama.cpp do)
  hf-variants OUTDIR TEXTS.json   folders whose tokenizer.json is gpt2-tiny's with other normalizers,
                                  pre-tokenizers, added tokens and post-processors (HF_VARIANTS), and
                                  `tokenizers`' ids for each: {name: [{"plain", "special", "decoded"}]}
  split PATTERN TEXTS.json        the pieces of tokenizers' Split(Regex(PATTERN), "isolated")
  train-sp OUTDIR TEXTS.json      trains small SentencePiece BPE models with various normalizer
                                  settings on heldout.txt, writes them and their reference ids
  make-gguf SRC OUT PRE [KEY=true|false]
                                  a vocabulary-only GGUF: SRC's metadata with tokenizer.ggml.pre = PRE
                                  (and a bool key set)
  gguf FILE TEXTS.json            llama.cpp (llama-cpp-python, vocab_only): tokenize(add_bos=True,
                                  special=True) and llama_detokenize  [needs /work/venv-llama; the
                                  output is checked in, CI does not run this mode]
  synthetic-ggufs OUTDIR          writes the GGUFs of SYNTHETIC_GGUFS (fixture vocabularies with other
                                  pre-tokenizer types and flags); prints {name: path}
  gguf-refs OUT.json              (venv python) llama.cpp's ids for every fixture GGUF and the
                                  synthetic GGUFs of SYNTHETIC_GGUFS, on the stress list and both
                                  heldout.txt files: the checked-in Resources/tokenizer-llamacpp-reference.json.zst

TEXTS.json is a JSON array of strings; output is JSON on stdout.
"""
import json
import os
import sys


def texts(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def hf(folder, tpath):
    from tokenizers import Tokenizer
    import transformers
    transformers.logging.set_verbosity_error()
    from transformers import AutoTokenizer
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(folder)
    out = []
    for t in texts(tpath):
        plain = tok.encode(t, add_special_tokens=False).ids
        out.append({"plain": plain, "special": auto(t, add_special_tokens=True)["input_ids"],
                    "decoded": tok.decode(plain, skip_special_tokens=False)})
    print(json.dumps(out))


def sp_split(sp, text):
    """Leftmost-longest matching of control and unknown piece strings."""
    specials = {sp.id_to_piece(i): i for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)}
    parts, buf, i = [], "", 0
    while i < len(text):
        best = None
        for s, sid in specials.items():
            if text.startswith(s, i) and (best is None or len(s) > len(best[0])):
                best = (s, sid)
        if best:
            if buf:
                parts.append(buf)
                buf = ""
            parts.append(best[1])
            i += len(best[0])
        else:
            buf += text[i]
            i += 1
    if buf:
        parts.append(buf)
    return parts


def sp_encode(sp, text):
    ids = []
    for p in sp_split(sp, text):
        ids += [p] if isinstance(p, int) else sp.encode(p)
    return ids


def sp_ref(model, tpath, bos=None):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=model)
    out = []
    for t in texts(tpath):
        plain = sp_encode(sp, t)
        out.append({"plain": plain, "special": ([bos] if bos is not None else []) + plain, "decoded": sp.decode(plain)})
    print(json.dumps(out))


LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def byte_level(prefix, regex):
    return {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": regex}


def split_step(pattern, behavior="Isolated", invert=False, literal=False):
    return {"type": "Split", "pattern": {"String" if literal else "Regex": pattern}, "behavior": behavior, "invert": invert}


def template(single, specials):
    return {"type": "TemplateProcessing", "single": single, "pair": single,
            "special_tokens": {name: {"id": name, "ids": [i], "tokens": [name]} for name, i in specials.items()}}


def added(content, i, special=True, lstrip=False, rstrip=False, single_word=False, normalized=False):
    return {"id": i, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}


HF_VARIANTS = {
    "llama3-split": dict(pre={"type": "Sequence", "pretokenizers": [split_step(LLAMA3), byte_level(False, False)]},
                         ignore_merges=True,
                         post={"type": "Sequence", "processors": [byte_level(True, False) | {"type": "ByteLevel"},
                               template([{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                                        {"<|endoftext|>": 0})]}),
    "qwen2-nfc": dict(normalizer={"type": "NFC"}, pre={"type": "Sequence", "pretokenizers": [split_step(QWEN2), byte_level(False, False)]}),
    "smollm-digits": dict(pre={"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level(False, True)]}),
    "digit-runs-nfkc": dict(normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}]},
                            pre={"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": False}, byte_level(False, True)]}),
    "prefix-space-eos": dict(pre=byte_level(True, True),
                             post=template([{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
                                           {"<|endoftext|>": 0})),
    "icu-regex": dict(pre={"type": "Sequence", "pretokenizers": [split_step(r"\p{Lu}?\p{Ll}+|\p{N}{2}|[^\s\w]+|\s+"), byte_level(False, False)]}),
    "split-behaviors": dict(pre={"type": "Sequence", "pretokenizers": [
        split_step(" ", "MergedWithNext", literal=True), split_step(r"[,.!?]", "MergedWithPrevious"),
        split_step(r"\d+", "Contiguous"), split_step(r"\s+", "Removed", invert=True), byte_level(False, False)]}),
    "split-removed": dict(pre={"type": "Sequence", "pretokenizers": [split_step(r"\s+", "Removed"), byte_level(False, True)]}),
    "whitespace-punct": dict(pre={"type": "Sequence", "pretokenizers": [{"type": "Punctuation", "behavior": "Isolated"},
                                                                         {"type": "WhitespaceSplit"}, byte_level(False, False)]}),
    "lowercase-strip": dict(normalizer={"type": "Sequence", "normalizers": [{"type": "Strip", "strip_left": True, "strip_right": True},
                                                                            {"type": "Lowercase"},
                                                                            {"type": "Replace", "pattern": {"String": "  "}, "content": " "}]},
                            pre=byte_level(False, True)),
    "added-token-flags": dict(added=[added("<|user|>", 4096, lstrip=True, rstrip=True), added("hello", 4097, special=False, single_word=True),
                                     added("école", 4098, special=False, normalized=True), added("<sep>", 4099, rstrip=True),
                                     added(" 1", 4100, special=False)],
                              normalizer={"type": "Lowercase"}, pre=byte_level(False, True)),
}


def hf_variants(outdir, tpath):
    from tokenizers import Tokenizer
    with open(os.path.join(fixtures_dir(), "gpt2-tiny", "tokenizer.json"), encoding="utf-8") as f:
        base = json.load(f)
    tlist = texts(tpath)
    result = {}
    for name, v in HF_VARIANTS.items():
        j = json.loads(json.dumps(base))
        j["normalizer"] = v.get("normalizer")
        j["pre_tokenizer"] = v.get("pre", j["pre_tokenizer"])
        j["post_processor"] = v.get("post", j["post_processor"])
        j["model"]["ignore_merges"] = v.get("ignore_merges", False)
        j["added_tokens"] = j["added_tokens"] + v.get("added", [])
        folder = os.path.join(outdir, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False)
        tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        out = []
        for t in tlist:
            plain = tok.encode(t, add_special_tokens=False).ids
            out.append({"plain": plain, "special": tok.encode(t).ids, "decoded": tok.decode(plain, skip_special_tokens=False)})
        result[name] = out
    print(json.dumps(result))


def split(pattern, tpath):
    from tokenizers import Regex, pre_tokenizers
    pt = pre_tokenizers.Split(Regex(pattern), "isolated")
    print(json.dumps([[p for p, _ in pt.pre_tokenize_str(t)] for t in texts(tpath)]))


SP_VARIANTS = {
    # name: trainer options (all BPE)
    "nfkc-default": dict(normalization_rule_name="nmt_nfkc"),
    "nfkc-bytefallback-digits": dict(normalization_rule_name="nmt_nfkc", byte_fallback=True, split_digits=True),
    "identity-keep-spaces": dict(normalization_rule_name="identity", remove_extra_whitespaces=False, byte_fallback=True),
    "identity-no-dummy": dict(normalization_rule_name="identity", add_dummy_prefix=False, remove_extra_whitespaces=False),
    "nfkc-cf-user-defined": dict(normalization_rule_name="nmt_nfkc_cf", user_defined_symbols=["<sep>", "foo", "@@"],
                                 control_symbols=["<ctl>"]),
    "suffix-whitespace": dict(normalization_rule_name="nmt_nfkc", treat_whitespace_as_suffix=True, byte_fallback=True),
}


def train_sp(outdir, tpath):
    import sentencepiece as spm
    here = os.path.dirname(os.path.abspath(__file__))
    corpus = os.path.join(os.path.dirname(os.path.dirname(here)), "..", "shared", "fixtures", "llama-tiny", "heldout.txt")
    corpus = os.environ.get("PRUNE_FIXTURES", os.path.dirname(os.path.dirname(corpus))) + "/llama-tiny/heldout.txt" \
        if os.environ.get("PRUNE_FIXTURES") else corpus
    result = {}
    for name, opts in SP_VARIANTS.items():
        prefix = os.path.join(outdir, name)
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, vocab_size=600, model_type="bpe",
                                       character_coverage=0.98, minloglevel=3, num_threads=1, **opts)
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        result[name] = [{"plain": sp_encode(sp, t), "decoded": sp.decode(sp_encode(sp, t))} for t in texts(tpath)]
    print(json.dumps(result))


def make_gguf(src, out, pre, setting=None):
    from gguf import GGUFReader, GGUFWriter, GGUFValueType
    r = GGUFReader(src)
    w = GGUFWriter(out, r.fields["general.architecture"].contents())
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k in ("general.architecture", "tokenizer.ggml.pre") or (setting and k == setting.split("=")[0]):
            continue
        t = f.types[0]
        if t == GGUFValueType.ARRAY:
            w.add_key_value(k, f.contents(), t, sub_type=f.types[-1])
        else:
            w.add_key_value(k, f.contents(), t)
    w.add_key_value("tokenizer.ggml.pre", pre, GGUFValueType.STRING)
    if setting:
        key, value = setting.split("=")
        w.add_key_value(key, value == "true", GGUFValueType.BOOL)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# name: (source fixture GGUF, tokenizer.ggml.pre, bool key setting)
SYNTHETIC_GGUFS = {
    "gpt2-llama-bpe": ("gpt2-tiny/model-f32.gguf", "llama-bpe", None),
    "gpt2-llama-bpe-bos": ("gpt2-tiny/model-f32.gguf", "llama-bpe", "tokenizer.ggml.add_bos_token=true"),
    "gpt2-qwen2": ("gpt2-tiny/model-f32.gguf", "qwen2", None),
    "gpt2-smollm": ("gpt2-tiny/model-f32.gguf", "smollm", None),
    "gpt2-default": ("gpt2-tiny/model-f32.gguf", "default", None),
    "gpt2-falcon": ("gpt2-tiny/model-f32.gguf", "falcon", None),
    "llama-no-space-prefix": ("llama-tiny/model-f32.gguf", "default", "tokenizer.ggml.add_space_prefix=false"),
    "llama-eos": ("llama-tiny/model-f32.gguf", "default", "tokenizer.ggml.add_eos_token=true"),
}

FIXTURE_GGUFS = [m + "/model-" + q + ".gguf" for m in ("gpt2-tiny", "llama-tiny") for q in ("f32", "f16", "q8_0", "q4_k_m")]


def fixtures_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("PRUNE_FIXTURES") or os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "fixtures"))


def all_texts():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "PruneKitTests", "Resources", "tokenizer-stress.json"), encoding="utf-8") as f:
        out = json.load(f)
    for m in ("gpt2-tiny", "llama-tiny"):
        with open(os.path.join(fixtures_dir(), m, "heldout.txt"), "rb") as f:
            lines = f.read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        out += [l.decode("utf-8") for l in lines]
    return out


def gguf_refs(outpath):
    import hashlib
    import subprocess
    import tempfile
    import llama_cpp
    tlist = all_texts()
    tmp = tempfile.mkdtemp()
    tpath = os.path.join(tmp, "texts.json")
    with open(tpath, "w", encoding="utf-8") as f:
        json.dump(tlist, f)
    files = {f: os.path.join(fixtures_dir(), f) for f in FIXTURE_GGUFS}
    made = subprocess.run(["python3", os.path.abspath(__file__), "synthetic-ggufs", tmp], check=True, stdout=subprocess.PIPE).stdout
    files.update(json.loads(made))
    refs, keys = {}, {}
    for name, path in files.items():
        r = [compact(t, e) for t, e in zip(tlist, gguf_results(path, tlist))]
        key = hashlib.sha256(json.dumps(r).encode()).hexdigest()[:16]
        refs[key] = r
        keys[name] = key
    digest = texts_digest(tlist)
    with open(outpath, "wb") as f:
        f.write(zstd_compress(json.dumps({"llama_cpp_python": llama_cpp.__version__, "texts_sha256": digest, "text_count": len(tlist),
                   "files": keys, "references": refs}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")))


def zstd_compress(data):
    import subprocess
    return subprocess.run(["zstd", "-19", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


def texts_digest(tlist):
    import hashlib
    return hashlib.sha256(b"".join(t.encode("utf-8") + b"\0" for t in tlist)).hexdigest()


def synthetic_ggufs(outdir):
    files = {}
    for name, (src, pre, setting) in SYNTHETIC_GGUFS.items():
        out = os.path.join(outdir, name + ".gguf")
        make_gguf(os.path.join(fixtures_dir(), src), out, pre, setting)
        files[name] = out
    print(json.dumps(files))


def compact(text, e):
    """{"p": plain ids, "s": ids with BOS/EOS when they differ, "d": decoded text when it differs}."""
    c = {"p": " ".join(map(str, e["plain"]))}
    if e["special"] != e["plain"]:
        c["s"] = " ".join(map(str, e["special"]))
    if e["decoded"] != text:
        c["d"] = e["decoded"]
    return c


def gguf_results(path, tlist):
    import ctypes
    import llama_cpp
    from llama_cpp import Llama
    m = Llama(model_path=path, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(m.model)
    out = []
    for t in tlist:
        ids = m.tokenize(t.encode("utf-8"), add_bos=True, special=True)
        plain = m.tokenize(t.encode("utf-8"), add_bos=False, special=True)
        arr = (llama_cpp.llama_token * max(1, len(plain)))(*plain)
        size = 16 * len(t.encode("utf-8")) + 64
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(vocab, arr, len(plain), buf, size, False, True)
        out.append({"special": ids, "plain": plain, "decoded": buf.raw[:n].decode("utf-8", "replace")})
    return out


def gguf_ref(path, tpath):
    print(json.dumps(gguf_results(path, texts(tpath))))


def main():
    a = sys.argv[1:]
    if a[0] == "hf":
        hf(a[1], a[2])
    elif a[0] == "sp":
        sp_ref(a[1], a[2], int(a[4]) if len(a) > 4 and a[3] == "--bos" else None)
    elif a[0] == "hf-variants":
        hf_variants(a[1], a[2])
    elif a[0] == "split":
        split(a[1], a[2])
    elif a[0] == "train-sp":
        train_sp(a[1], a[2])
    elif a[0] == "make-gguf":
        make_gguf(a[1], a[2], a[3], a[4] if len(a) > 4 else None)
    elif a[0] == "synthetic-ggufs":
        synthetic_ggufs(a[1])
    elif a[0] == "gguf-refs":
        gguf_refs(a[1])
    elif a[0] == "gguf":
        gguf_ref(a[1], a[2])
    else:
        sys.exit("unknown mode " + a[0])


if __name__ == "__main__":
    main()
