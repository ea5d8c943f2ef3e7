"""Shared helpers of the apply_* scripts: read tensors of safetensors (any float dtype, bf16 too) and
GGUF files as float64 matrices in the stored orientation (rows × cols, cols innermost), independently
of prune. Uses only numpy, the `safetensors` package (header parsing) and gguf-py."""
import json, struct
import numpy as np
import gguf

ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def is_gguf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"GGUF"


def st_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n)), 8 + n


def st_raw(path, name):
    hdr, start = st_header(path)
    e = hdr[name]
    a, b = e["data_offsets"]
    with open(path, "rb") as f:
        f.seek(start + a)
        return f.read(b - a), e["dtype"], e["shape"]


def decode_st(raw, dtype, shape):
    if dtype == "BF16":
        u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        v = u.view(np.float32)
    else:
        v = np.frombuffer(raw, dtype=np.dtype(ST_DTYPES[dtype]).newbyteorder("<"))
    return v.astype(np.float64)


class Model:
    """A model file's tensors as float64 matrices in stored orientation, plus raw bytes and type."""

    def __init__(self, path):
        self.path = path
        self.gguf = is_gguf(path)
        if self.gguf:
            self.reader = gguf.GGUFReader(path)
            self.by_name = {t.name: t for t in self.reader.tensors}
            f = self.reader.fields.get("general.architecture")
            self.arch = bytes(f.parts[f.data[0]]).decode() if f is not None else None
        else:
            self.header, _ = st_header(path)

    def names(self):
        if self.gguf:
            return [t.name for t in self.reader.tensors]
        return [k for k in self.header if k != "__metadata__"]

    def type(self, name):
        if self.gguf:
            return self.by_name[name].tensor_type.name
        return self.header[name]["dtype"]

    def matrix_shape(self, name):
        if self.gguf:
            ne = [int(x) for x in self.by_name[name].shape]
            rows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
            return rows, ne[0]
        shape = self.header[name]["shape"]
        return (int(np.prod(shape[:-1])) if len(shape) > 1 else 1), shape[-1]

    def transposed(self, name):
        """Whether the manifest orientation (Hugging Face's) is the transpose of the stored one:
        GPT-2's Conv1D weights are [in, out] in Hugging Face files, while llama.cpp stores them
        ne = [in, out], i.e. rows = out."""
        return self.gguf and self.arch == "gpt2" and len(self.by_name[name].shape) == 2

    def logical_shape(self, name):
        rows, cols = self.matrix_shape(name)
        return (cols, rows) if self.transposed(name) else (rows, cols)

    def raw(self, name):
        if self.gguf:
            return bytes(np.asarray(self.by_name[name].data).view(np.uint8).ravel().tobytes())
        return st_raw(self.path, name)[0]

    def matrix(self, name):
        rows, cols = self.matrix_shape(name)
        if self.gguf:
            t = self.by_name[name]
            v = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
            return np.asarray(v, dtype=np.float64).reshape(rows, cols)
        raw, dtype, shape = st_raw(self.path, name)
        return decode_st(raw, dtype, shape).reshape(rows, cols)
