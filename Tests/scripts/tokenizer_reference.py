#!/usr/bin/env python3
"""Reference token ids for the PruneTokenizers tests, from the models' own libraries.

  hf FOLDER TEXTS.json            Hugging Face: `tokenizers` on tokenizer.json (ids without special
                                  tokens, decode) and transformers AutoTokenizer (ids with them)
  sp MODEL TEXTS.json [--bos ID]  sentencepiece on tokenizer.model; control and unknown piece strings
                                  in a text become their tokens (leftmost-longest), each fragment
                                  between them is encoded on its own (as transformers and llama.cpp do)
  split PATTERN TEXTS.json        the pieces of tokenizers' Split(Regex(PATTERN), "isolated")
  train-sp OUTDIR TEXTS.json      trains small SentencePiece BPE models with various normalizer
                                  settings on heldout.txt, writes them and their reference ids
  make-gguf SRC OUT PRE           a vocabulary-only GGUF: SRC's metadata with tokenizer.ggml.pre = PRE
  gguf FILE TEXTS.json            llama.cpp (llama-cpp-python, vocab_only): tokenize(add_bos=True,
                                  special=True) and llama_detokenize  [needs /work/venv-llama; the
                                  output is checked in, CI does not run this mode]

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


def make_gguf(src, out, pre):
    from gguf import GGUFReader, GGUFWriter, GGUFValueType
    r = GGUFReader(src)
    w = GGUFWriter(out, r.fields["general.architecture"].contents())
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k in ("general.architecture", "tokenizer.ggml.pre"):
            continue
        t = f.types[0]
        if t == GGUFValueType.ARRAY:
            w.add_key_value(k, f.contents(), t, sub_type=f.types[-1])
        else:
            w.add_key_value(k, f.contents(), t)
    w.add_key_value("tokenizer.ggml.pre", pre, GGUFValueType.STRING)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_ref(path, tpath):
    import ctypes
    import llama_cpp
    from llama_cpp import Llama
    m = Llama(model_path=path, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(m.model)
    out = []
    for t in texts(tpath):
        ids = m.tokenize(t.encode("utf-8"), add_bos=True, special=True)
        plain = m.tokenize(t.encode("utf-8"), add_bos=False, special=True)
        arr = (llama_cpp.llama_token * max(1, len(plain)))(*plain)
        size = 16 * len(t.encode("utf-8")) + 64
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(vocab, arr, len(plain), buf, size, False, True)
        out.append({"special": ids, "plain": plain, "decoded": buf.raw[:n].decode("utf-8", "replace")})
    print(json.dumps(out))


def main():
    a = sys.argv[1:]
    if a[0] == "hf":
        hf(a[1], a[2])
    elif a[0] == "sp":
        sp_ref(a[1], a[2], int(a[4]) if len(a) > 4 and a[3] == "--bos" else None)
    elif a[0] == "split":
        split(a[1], a[2])
    elif a[0] == "train-sp":
        train_sp(a[1], a[2])
    elif a[0] == "make-gguf":
        make_gguf(a[1], a[2], a[3])
    elif a[0] == "gguf":
        gguf_ref(a[1], a[2])
    else:
        sys.exit("unknown mode " + a[0])


if __name__ == "__main__":
    main()
