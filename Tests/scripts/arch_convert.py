#!/usr/bin/env python3
"""llama.cpp's convert_hf_to_gguf.py, unchanged, with the BPE pre-tokenizer pinned.

  PYTHONPATH=LLAMA_CPP/gguf-py arch_convert.py LLAMA_CPP PRE [convert_hf_to_gguf.py arguments...]

LLAMA_CPP is the llama.cpp source folder (vendor/llama.cpp of the llama-cpp-python sdist). The
converter recognises a BPE pre-tokenizer by hashing how the folder's tokenizer splits a test string;
the tiny tokenizers of arch_make_models.py have no known hash, so get_vocab_base_pre returns PRE
(e.g. "gpt-2", the regex of their ByteLevel pre-tokenizer). Nothing else is changed; folders with a
SentencePiece tokenizer.model never reach get_vocab_base_pre.
"""
import os
import sys


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: arch_convert.py LLAMA_CPP PRE [convert_hf_to_gguf.py arguments...]\n")
        return 64
    root, pre = sys.argv[1], sys.argv[2]
    sys.path.insert(0, root)
    sys.argv = [os.path.join(root, "convert_hf_to_gguf.py")] + sys.argv[3:]
    import convert_hf_to_gguf
    from conversion import base
    base.TextModel.get_vocab_base_pre = lambda self, tokenizer: pre
    convert_hf_to_gguf.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
