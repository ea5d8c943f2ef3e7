#!/usr/bin/env python3
"""GGUF files for the runtime tests (Tests/PruneKitTests/Runtime), written with gguf-py.

  runtime_gguf_tools.py dequantize IN.gguf OUT.gguf   # every tensor dequantized to F32 by gguf-py
                                                      # (gguf.quants.dequantize), metadata copied
  runtime_gguf_tools.py drop-key IN.gguf OUT.gguf KEY # the same file without metadata KEY
  runtime_gguf_tools.py drop-tensor IN.gguf OUT.gguf NAME
  runtime_gguf_tools.py set-arch IN.gguf OUT.gguf ARCH  # general.architecture replaced (keys kept),
                                                        # removed when ARCH is empty
  runtime_gguf_tools.py set-token IN.gguf OUT.gguf ID HEX [TYPE]  # token ID's text replaced by the
                                                        # bytes HEX (may be empty or not UTF-8), its type by TYPE
  runtime_gguf_tools.py drop-tokens IN.gguf OUT.gguf N  # the last N tokens (text, type, score) removed

The dequantized copy is the independent reference for the quantized paths: the runtime's result on
a quantized file must match its f32 path on gguf-py's dequantization of the same bytes.
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFWriter, GGUFValueType, GGMLQuantizationType, quants


def copy(src, dst, transform=None, skip_key=None, skip_tensor=None, arch=None, edit=None):
    r = GGUFReader(src)
    drop_arch = arch == ""
    arch = arch or r.fields["general.architecture"].contents()
    w = GGUFWriter(dst, arch=arch)
    if drop_arch:
        w.kv_data[0].pop("general.architecture")
    for name, f in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture" or name == skip_key:
            continue
        vtype = f.types[0]
        sub = f.types[1] if vtype == GGUFValueType.ARRAY and len(f.types) > 1 else None
        if name == "general.alignment":
            continue
        value = f.contents()
        if edit is not None:
            value = edit(name, value)
        w.add_key_value(name, value, vtype, sub)
    for t in r.tensors:
        if t.name == skip_tensor:
            continue
        if transform is None:
            # The reader's data has the numpy shape (bytes per row for quantized types).
            w.add_tensor(t.name, np.asarray(t.data), raw_dtype=t.tensor_type)
        else:
            w.add_tensor(t.name, transform(t))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def dequantized(t):
    ne = [int(x) for x in t.shape]
    if t.tensor_type == GGMLQuantizationType.F32:
        v = np.asarray(t.data, dtype=np.float32)
    else:
        v = quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
    return np.ascontiguousarray(v.reshape(list(reversed(ne))))


def main():
    op = sys.argv[1]
    if op == "dequantize":
        copy(sys.argv[2], sys.argv[3], transform=dequantized)
    elif op == "drop-key":
        copy(sys.argv[2], sys.argv[3], skip_key=sys.argv[4])
    elif op == "drop-tensor":
        copy(sys.argv[2], sys.argv[3], skip_tensor=sys.argv[4])
    elif op == "set-arch":
        copy(sys.argv[2], sys.argv[3], arch=sys.argv[4])
    elif op == "set-token":
        index, raw = int(sys.argv[4]), bytes.fromhex(sys.argv[5])
        kind = int(sys.argv[6]) if len(sys.argv) > 6 else None

        def edit(name, value):
            if name == "tokenizer.ggml.tokens":
                value = [t.encode("utf-8") for t in value]
                value[index] = raw
            elif name == "tokenizer.ggml.token_type" and kind is not None:
                value = list(value)
                value[index] = kind
            return value
        copy(sys.argv[2], sys.argv[3], edit=edit)
    elif op == "drop-tokens":
        n = int(sys.argv[4])

        def edit(name, value):
            if name in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.scores"):
                return list(value)[:-n]
            return value
        copy(sys.argv[2], sys.argv[3], edit=edit)
    else:
        sys.exit(f"unknown operation {op}")


if __name__ == "__main__":
    main()
