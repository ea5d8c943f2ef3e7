"""Writes matrix-value files for the Swift manifest tests, with numpy / safetensors.

usage: edits_make_values.py OUTDIR
Good .npy files (all hold M = [[1.5, -2.25], [3, 0.125], [-7, 1e-3]] or its first column as a vector):
  c_f4.npy, f_f8.npy (fortran_order), c_f2.npy, be_f4.npy ('>f4'), v1.npy/v2.npy/v3.npy (format
  versions), fortran_f4.npy, vec_f4.npy ([3]), nan.npy (a NaN at [1, 0])
Bad .npy files: bad_dtype.npy ('<i4'), bad_3d.npy, bad_short.npy (data truncated), bad_long.npy
  (trailing byte), bad_magic.npy, bad_header.npy (header not a dict)
values.safetensors: "m" F32 [3,2], "h" F16 [3,2], "v" F32 [3], "ints" I32 [3,2], "cube" F32 [1,3,2]
expected.json: {file-or-key: nested list of the exact values as f64}"""
import json
import os
import sys

import numpy as np
from numpy.lib import format as npf
from safetensors.numpy import save_file

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
M = np.array([[1.5, -2.25], [3.0, 0.125], [-7.0, 1e-3]])
expected = {}


def save(name, arr, version=None, fortran=False):
    path = os.path.join(out, name)
    if fortran:
        arr = np.asfortranarray(arr)
    with open(path, "wb") as f:
        npf.write_array(f, arr, version=version)
    expected[name] = np.asarray(arr).astype(np.float64).tolist()


save("c_f4.npy", M.astype("<f4"))
save("f_f8.npy", M.astype("<f8"), fortran=True)
save("fortran_f4.npy", M.astype("<f4"), fortran=True)
save("c_f2.npy", M.astype("<f2"))
save("be_f4.npy", M.astype(">f4"))
save("v1.npy", M.astype("<f4"), version=(1, 0))
save("v2.npy", M.astype("<f4"), version=(2, 0))
save("v3.npy", M.astype("<f4"), version=(3, 0))
save("vec_f4.npy", M[:, 0].astype("<f4"))
nan = M.astype("<f4").copy(); nan[1, 0] = np.nan
with open(os.path.join(out, "nan.npy"), "wb") as f:
    npf.write_array(f, nan)

with open(os.path.join(out, "bad_dtype.npy"), "wb") as f:
    npf.write_array(f, np.arange(6, dtype="<i4").reshape(3, 2))
with open(os.path.join(out, "bad_3d.npy"), "wb") as f:
    npf.write_array(f, np.zeros((1, 3, 2), dtype="<f4"))
good = open(os.path.join(out, "c_f4.npy"), "rb").read()
open(os.path.join(out, "bad_short.npy"), "wb").write(good[:-1])
open(os.path.join(out, "bad_long.npy"), "wb").write(good + b"\0")
open(os.path.join(out, "bad_magic.npy"), "wb").write(b"\x93NUMPX" + good[6:])
hdr = b"['descr', '<f4']"
hdr = hdr + b" " * (64 - 10 - len(hdr) - 1) + b"\n"
open(os.path.join(out, "bad_header.npy"), "wb").write(b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr + b"\0" * 24)

save_file({"m": M.astype(np.float32), "h": M.astype(np.float16), "v": M[:, 0].astype(np.float32),
           "ints": np.arange(6, dtype=np.int32).reshape(3, 2), "cube": np.zeros((1, 3, 2), np.float32)},
          os.path.join(out, "values.safetensors"))
expected["m"] = M.astype(np.float32).astype(np.float64).tolist()
expected["h"] = M.astype(np.float16).astype(np.float64).tolist()
expected["v"] = M[:, 0].astype(np.float32).astype(np.float64).tolist()
json.dump(expected, open(os.path.join(out, "expected.json"), "w"))
print("ok")
