#!/usr/bin/env python3
"""Generates a corpus of malformed model files for the bad-input tests.

usage: corpus_make.py OUTDIR [FIXTURES_DIR]
Writes ≥100 files into OUTDIR and OUTDIR/corpus.json: [{"file", "kind", "expect"}], where `expect`
is a lowercase substring the one-line error message must contain. Kinds: truncations at many
offsets, lying header sizes, gapped / overlapping / aliased offsets, duplicate names, huge n_dims or
ne, overflowing products, misaligned offsets, unknown dtypes / types, broken zstd frames, and more.
"""
import json, os, struct, subprocess, sys

out_dir = sys.argv[1]
fixtures = sys.argv[2] if len(sys.argv) > 2 else None
os.makedirs(out_dir, exist_ok=True)
entries = []


def emit(name, data, kind, expect):
    path = os.path.join(out_dir, name)
    with open(path, "wb") as f:
        f.write(data)
    entries.append({"file": name, "kind": kind, "expect": expect})


# ---------------------------------------------------------------- safetensors
def st(header, data, length=None):
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def ent(dtype, shape, b, e):
    return {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}


good_st_header = {"__metadata__": {"format": "pt"}, "a": ent("F32", [2, 3], 0, 24), "b": ent("F16", [4], 24, 32),
                  "c": ent("U8", [8], 32, 40)}
good_st = st(good_st_header, bytes(range(40)))
for cut in [0, 1, 4, 7, 8, 9, 20, 50, len(good_st) - 41, len(good_st) - 40, len(good_st) - 30, len(good_st) - 17,
            len(good_st) - 1]:
    expect = "end" if cut < len(good_st) - 40 else "truncated"
    emit(f"st_trunc_{cut}.safetensors", good_st[:cut], "truncation", "empty input" if cut == 0 else expect)
hlen = len(good_st) - 40 - 8
emit("st_len_huge.safetensors", struct.pack("<Q", 1 << 62) + good_st[8:], "lying header size", "exceeds")
emit("st_len_101mb.safetensors", struct.pack("<Q", 100_000_001) + good_st[8:], "lying header size", "exceeds")
emit("st_len_past_end.safetensors", struct.pack("<Q", len(good_st)) + good_st[8:], "lying header size", "past the end")
emit("st_len_short.safetensors", struct.pack("<Q", hlen - 5) + good_st[8:], "lying header size", "json")
emit("st_len_long.safetensors", struct.pack("<Q", hlen + 5) + good_st[8:], "lying header size", "json")
emit("st_len_zero.safetensors", struct.pack("<Q", 0) + good_st[8:], "lying header size", "")


def st_case(name, header, data, kind, expect):
    emit(name, st(header, data), kind, expect)


st_case("st_gap.safetensors", {"a": ent("U8", [4], 0, 4), "b": ent("U8", [4], 6, 10)}, bytes(10), "gap", "gap")
st_case("st_gap_start.safetensors", {"a": ent("U8", [4], 2, 6)}, bytes(6), "gap", "gap")
st_case("st_overlap.safetensors", {"a": ent("U8", [4], 0, 4), "b": ent("U8", [4], 2, 6)}, bytes(6), "overlap", "overlap")
st_case("st_alias.safetensors", {"a": ent("U8", [4], 0, 4), "b": ent("U8", [4], 0, 4)}, bytes(4), "alias", "alias")
st_case("st_offsets_reversed.safetensors", {"a": ent("U8", [4], 4, 0)}, bytes(4), "offsets", "end before")
st_case("st_size_mismatch.safetensors", {"a": ent("F32", [3], 0, 8)}, bytes(8), "size", "needs")
st_case("st_overflow.safetensors", {"a": ent("F64", [1 << 40, 1 << 40], 0, 8)}, bytes(8), "overflow", "overflow")
st_case("st_overflow_bits.safetensors", {"a": ent("F64", [1 << 61], 0, 8)}, bytes(8), "overflow", "overflow")
st_case("st_shape_huge_int.safetensors", {"a": ent("F32", [10 ** 30], 0, 8)}, bytes(8), "huge ne", "not a non-negative")
st_case("st_shape_negative.safetensors", {"a": ent("F32", [-1], 0, 4)}, bytes(4), "bad shape", "not a non-negative")
st_case("st_shape_float.safetensors", {"a": ent("F32", [1.5], 0, 4)}, bytes(4), "bad shape", "not a non-negative")
st_case("st_zero_dim_overflow.safetensors", {"a": ent("F32", [0, 1 << 40, 1 << 40], 0, 0)}, b"", "overflow", "overflow")
st_case("st_offset_huge.safetensors", {"a": ent("U8", [0], 0, 0), "b": ent("U8", [1], 0, (1 << 63) - 1)}, b"", "overflow", "")
st_case("st_unknown_dtype.safetensors", {"a": ent("F31", [1], 0, 4)}, bytes(4), "unknown dtype", "unknown dtype")
st_case("st_dtype_lower.safetensors", {"a": ent("f32", [1], 0, 4)}, bytes(4), "unknown dtype", "unknown dtype")
st_case("st_f4_odd.safetensors", {"a": ent("F4", [3], 0, 2)}, bytes(2), "partial bytes", "whole bytes")
st_case("st_missing_dtype.safetensors", {"a": {"shape": [1], "data_offsets": [0, 4]}}, bytes(4), "entry", "missing dtype")
st_case("st_missing_offsets.safetensors", {"a": {"dtype": "F32", "shape": [1]}}, bytes(4), "entry", "missing data_offsets")
st_case("st_three_offsets.safetensors", {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}, bytes(4), "entry", "data_offsets")
st_case("st_entry_string.safetensors", {"a": "x"}, b"", "entry", "not an object")
st_case("st_meta_int.safetensors", {"__metadata__": {"k": 1}}, b"", "metadata", "metadata")
st_case("st_meta_list.safetensors", {"__metadata__": ["x"]}, b"", "metadata", "metadata")
st_case("st_trailing.safetensors", {"a": ent("U8", [4], 0, 4)}, bytes(5), "trailing", "trailing")
emit("st_dup_name.safetensors", st(b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', bytes(8)), "duplicate", "duplicate")
emit("st_dup_meta.safetensors", st(b'{"__metadata__":{},"__metadata__":{}}', b""), "duplicate", "duplicate")
emit("st_bad_utf8.safetensors", st(b'{"a\xff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', bytes(1)), "utf8", "utf-8")
emit("st_bad_json.safetensors", st(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},}', bytes(1)), "json", "json")
emit("st_not_object.safetensors", st(b'[1,2,3]', b""), "json", "not a json object")
emit("st_deep_json.safetensors", st(b'{"__metadata__":' + b"[" * 200 + b"]" * 200 + b"}", b""), "json", "json")
emit("st_control_char.safetensors", st(b'{"a\x01":1}', b""), "json", "json")
emit("st_lone_surrogate.safetensors", st(b'{"\\ud800":1}', b""), "json", "json")

# ---------------------------------------------------------------- GGUF
def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf(kvs, tensors, data, version=3, align=32, n_tensors=None, n_kv=None, magic=b"GGUF"):
    out = magic + struct.pack("<I", version)
    out += struct.pack("<Q", len(tensors) if n_tensors is None else n_tensors)
    out += struct.pack("<Q", len(kvs) if n_kv is None else n_kv)
    for kv in kvs:
        out += kv
    for name, typ, ne, off in tensors:
        out += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne)
        out += struct.pack("<I", typ) + struct.pack("<Q", off)
    out += bytes((-len(out)) % align)
    return out + data


def kv_str(k, v):
    return gstr(k) + struct.pack("<I", 8) + gstr(v)


def kv_u32(k, v):
    return gstr(k) + struct.pack("<II", 4, v)


def kv_arr(k, etype, count, payload):
    return gstr(k) + struct.pack("<II", 9, etype) + struct.pack("<Q", count) + payload


base_kvs = [kv_str("general.architecture", "llama"), kv_u32("general.alignment", 32),
            kv_arr("tokenizer.ggml.tokens", 8, 3, gstr("a") + gstr("b") + gstr("c"))]
base_tensors = [("t.a", 0, [4, 2], 0), ("t.b", 8, [32], 32), ("t.c", 1, [16], 96)]
good_g = gguf(base_kvs, base_tensors, bytes(128))
hdr_end = len(good_g) - 128
for cut in [0, 3, 4, 6, 8, 12, 16, 20, 24, 30, 40, 60, 80, 100, 120, 140, 160, 180, hdr_end - 10, hdr_end - 1,
            hdr_end, hdr_end + 16, hdr_end + 32, hdr_end + 60, len(good_g) - 33, len(good_g) - 1]:
    if cut >= len(good_g):
        continue
    if cut == 0:
        expect = "empty input"
    elif cut < hdr_end:
        expect = "end"
    else:
        expect = "truncated"
    emit(f"gguf_trunc_{cut}.gguf", good_g[:cut], "truncation", expect)
emit("gguf_trailing.gguf", good_g + bytes(40), "trailing", "trailing")
emit("gguf_big_endian.gguf", b"GGUF" + struct.pack(">I", 3) + good_g[8:], "big-endian", "big-endian")
emit("gguf_v1.gguf", gguf(base_kvs, base_tensors, bytes(128), version=1), "version", "unsupported gguf version")
emit("gguf_v4.gguf", gguf(base_kvs, base_tensors, bytes(128), version=4), "version", "unsupported gguf version")
emit("gguf_bad_magic.gguf", gguf(base_kvs, base_tensors, bytes(128), magic=b"GGUG"), "magic", "")
emit("gguf_ntensors_huge.gguf", gguf(base_kvs, base_tensors, bytes(128), n_tensors=1 << 62), "lying count", "exceeds the limit")
emit("gguf_nkv_huge.gguf", gguf(base_kvs, base_tensors, bytes(128), n_kv=(1 << 64) - 1), "lying count", "exceeds the limit")
emit("gguf_nkv_more.gguf", gguf(base_kvs, base_tensors, bytes(128), n_kv=4), "lying count", "")
emit("gguf_ntensors_more.gguf", gguf(base_kvs, base_tensors, bytes(128), n_tensors=4), "lying count", "")
emit("gguf_dup_key.gguf", gguf(base_kvs + [kv_str("general.architecture", "x")], base_tensors, bytes(128)), "duplicate", "duplicate key")
emit("gguf_dup_tensor.gguf", gguf(base_kvs, [("t.a", 0, [4, 2], 0), ("t.a", 0, [4, 2], 32)], bytes(64)), "duplicate", "duplicate tensor")
emit("gguf_ndims_5.gguf", gguf(base_kvs, [("t", 0, [1, 1, 1, 1, 1], 0)], bytes(32)), "n_dims", "dimensions")
emit("gguf_ntensors_missing.gguf", gguf(base_kvs, [], b"", n_tensors=1), "lying count", "")
# (hand-written n_dims = 2^31 record)
rec = gstr("t") + struct.pack("<I", 1 << 31) + struct.pack("<q", 4) * 4
emit("gguf_ndims_2p31.gguf", b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + rec, "n_dims", "dimensions")
emit("gguf_ne_negative.gguf", gguf(base_kvs, [("t", 0, [-4], 0)], bytes(32)), "huge ne", "negative")
emit("gguf_ne_huge.gguf", gguf(base_kvs, [("t", 0, [1 << 62], 0)], bytes(32)), "huge ne", "overflow")
emit("gguf_ne_overflow.gguf", gguf(base_kvs, [("t", 0, [1 << 32, 1 << 32], 0)], bytes(32)), "overflow", "overflow")
emit("gguf_ne_overflow4.gguf", gguf(base_kvs, [("t", 0, [1 << 16, 1 << 16, 1 << 16, 1 << 16], 0)], bytes(32)), "overflow", "overflow")
emit("gguf_zero_dim_overflow.gguf", gguf(base_kvs, [("t", 0, [0, 1 << 40, 1 << 40], 0)], bytes(32)), "overflow", "overflow")
emit("gguf_bytes_overflow.gguf", gguf(base_kvs, [("t", 28, [1 << 61], 0)], bytes(32)), "overflow", "overflow")
emit("gguf_block_multiple.gguf", gguf(base_kvs, [("t", 8, [30], 0)], bytes(64)), "block size", "block size")
emit("gguf_kblock_multiple.gguf", gguf(base_kvs, [("t", 12, [128], 0)], bytes(256)), "block size", "block size")
for t in [4, 5, 31, 36, 1000, 0xFFFFFFFF]:
    emit(f"gguf_type_{t}.gguf", gguf(base_kvs, [("t", t, [256], 0)], bytes(1024)), "unknown type", "unknown ggml type")
emit("gguf_offset_misaligned.gguf", gguf(base_kvs, [("t.a", 0, [4], 0), ("t.b", 0, [4], 16)], bytes(64)), "misaligned", "not where")
emit("gguf_offset_one.gguf", gguf(base_kvs, [("t.a", 0, [4], 1)], bytes(64)), "misaligned", "not where")
emit("gguf_offset_gap.gguf", gguf(base_kvs, [("t.a", 0, [4], 0), ("t.b", 0, [4], 64)], bytes(96)), "gap", "not where")
emit("gguf_offset_overlap.gguf", gguf(base_kvs, [("t.a", 0, [16], 0), ("t.b", 0, [4], 32)], bytes(96)), "overlap", "not where")
emit("gguf_offset_alias.gguf", gguf(base_kvs, [("t.a", 0, [4], 0), ("t.b", 0, [4], 0)], bytes(64)), "alias", "not where")
emit("gguf_offset_huge.gguf", gguf(base_kvs, [("t.a", 0, [4], 1 << 63)], bytes(64)), "range", "not where")
emit("gguf_align_zero.gguf", gguf([kv_u32("general.alignment", 0)], base_tensors, bytes(128)), "alignment", "alignment")
emit("gguf_align_24.gguf", gguf([kv_u32("general.alignment", 24)], base_tensors, bytes(128)), "alignment", "alignment")
emit("gguf_align_type.gguf", gguf([kv_str("general.alignment", "32")], base_tensors, bytes(128)), "alignment", "alignment")
emit("gguf_kv_type_13.gguf", gguf([gstr("k") + struct.pack("<II", 13, 0)], base_tensors, bytes(128)), "kv type", "invalid value type")
emit("gguf_arr_type_99.gguf", gguf([kv_arr("k", 99, 1, b"\0")], base_tensors, bytes(128)), "kv type", "invalid value type")
emit("gguf_str_huge.gguf", gguf([gstr("k") + struct.pack("<I", 8) + struct.pack("<Q", 1 << 60)], base_tensors, bytes(128)), "string cap", "string")
emit("gguf_key_huge.gguf", gguf([struct.pack("<Q", (1 << 64) - 1) + b"k"], base_tensors, bytes(128)), "string cap", "string")
emit("gguf_arr_huge.gguf", gguf([kv_arr("k", 0, 1 << 62, b"")], base_tensors, bytes(128)), "array cap", "array of")
emit("gguf_arr_str_huge.gguf", gguf([kv_arr("k", 8, 1 << 40, b"")], base_tensors, bytes(128)), "array cap", "array of")
nested = gstr("k") + struct.pack("<I", 9) + (struct.pack("<I", 9) + struct.pack("<Q", 1)) * 8 + struct.pack("<IQ", 0, 0)
emit("gguf_arr_nested_deep.gguf", gguf([nested], base_tensors, bytes(128)), "nesting", "nested too deeply")
emit("gguf_name_long.gguf", gguf(base_kvs, [("n" * 64, 0, [4], 0)], bytes(32)), "name", "exceeds 63")
emit("gguf_data_short.gguf", gguf(base_kvs, base_tensors, bytes(100)), "truncation", "truncated")

# ---------------------------------------------------------------- zstd
def zstd(data, *args):
    return subprocess.run(["zstd", "-q", "-c", *args], input=data, stdout=subprocess.PIPE, check=True).stdout


zg = zstd(good_g)
zs = zstd(good_st)
emit("z_trunc_half.gguf.zst", zg[: len(zg) // 2], "broken zstd", "zstd")
emit("z_trunc_last.gguf.zst", zg[:-1], "broken zstd", "zstd")
emit("z_trunc_4.safetensors.zst", zs[:4], "broken zstd", "")
emit("z_trunc_6.safetensors.zst", zs[:6], "broken zstd", "")
emit("z_magic_garbage.zst", b"\x28\xb5\x2f\xfd" + bytes(range(200)), "broken zstd", "zstd")
flipped = bytearray(zs)
flipped[len(flipped) // 2] ^= 0xFF
emit("z_flipped.safetensors.zst", bytes(flipped), "broken zstd", "")
bad_sum = bytearray(zg)
bad_sum[-1] ^= 0x55   # content checksum
emit("z_bad_checksum.gguf.zst", bytes(bad_sum), "broken zstd", "zstd")
emit("z_second_frame_trunc.zst", zs + zstd(b"xyz")[:-2], "broken zstd", "")
emit("z_trailing_garbage.zst", zs + b"garbage!", "broken zstd", "zstd")
emit("z_valid_truncated_model.gguf.zst", zstd(good_g[: hdr_end + 40]), "truncation in zstd", "")
emit("z_valid_trailing_model.safetensors.zst", zstd(good_st + b"x"), "trailing in zstd", "trailing")
emit("z_two_frames_cut.safetensors.zst", zstd(good_st[:30]) + zstd(good_st[30:60]), "truncation in zstd", "unexpected end")
emit("z_empty_frame.zst", zstd(b""), "empty", "empty input")
emit("z_skippable_only.zst", struct.pack("<II", 0x184D2A50, 4) + b"abcd", "empty", "empty input")

# ---------------------------------------------------------------- misc
emit("empty.safetensors", b"", "empty", "empty input")
emit("text.bin", b"hello world, not a model\n", "unknown format", "not a safetensors or gguf")
emit("zeros.bin", bytes(64), "unknown format", "not a safetensors or gguf")

# ---------------------------------------------------------------- real fixtures, truncated / corrupted
if fixtures:
    for model in ["gpt2-tiny", "llama-tiny"]:
        for fname in ["model.safetensors", "model-q4_k_m.gguf"]:
            with open(os.path.join(fixtures, model, fname), "rb") as f:
                blob = f.read()
            stem = f"fx_{model}_{fname.replace('.', '_')}"
            for frac in [0.001, 0.01, 0.5, 0.999]:
                cut = int(len(blob) * frac)
                emit(f"{stem}_cut{cut}", blob[:cut], "truncation", "")

json.dump(entries, open(os.path.join(out_dir, "corpus.json"), "w"), indent=1)
print(len(entries))
