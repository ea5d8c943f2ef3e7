#!/usr/bin/env python3
"""Independent float64 reference of prune-apply: apply_check.py BASE OUT SIDECAR MANIFEST [MANIFEST...]
[--restraint log|linear|none] [--alpha A] [--schedule end|each]

Reads the manifests (low-rank / dense edits on the model's own tensor names, values as nested arrays or
b64), accumulates ΔW per tensor in float64, restrains it against σ_max(W₀) (numpy SVD) with PRUNE's
F(σ) = log_α σ − log_α σ_max + σ_max (or (σ + σ_max)/2) for every σ ≥ σ_max, and checks that
  * each edited tensor of OUT equals W₀ + restrained ΔW within the rounding of its storage type,
  * every other tensor of OUT is byte-identical to BASE,
  * the sidecar's σ_max, spectra and restrained-component count agree with the reference.
Prints a JSON report; exits 1 listing every failure."""
import base64, json, math, sys
import numpy as np
from safetensors import safe_open
from apply_common import Model

args = sys.argv[1:]
opts = {"--restraint": "log", "--alpha": str(math.e), "--schedule": "end"}
pos = []
i = 0
while i < len(args):
    if args[i] in opts:
        opts[args[i]] = args[i + 1]
        i += 2
    else:
        pos.append(args[i])
        i += 1
base_path, out_path, sidecar_path, manifests = pos[0], pos[1], pos[2], pos[3:]
restraint, alpha, schedule = opts["--restraint"], float(opts["--alpha"]), opts["--schedule"]

base, out = Model(base_path), Model(out_path)
failures = []


def value(v):
    if isinstance(v, dict) and "b64" in v:
        a = np.frombuffer(base64.b64decode(v["b64"]), dtype="<f4").astype(np.float64)
        return a.reshape(v["shape"])
    a = np.asarray(v, dtype=np.float32).astype(np.float64)
    return a.reshape(-1, 1) if a.ndim == 1 else a


deltas = {}   # tensor -> list of float64 matrices, in edit order
for mpath in manifests:
    for line in open(mpath):
        if not line.strip():
            continue
        e = json.loads(line)
        s = float(e.get("scale", 1.0))
        if e["kind"] == "lowrank":
            d = (value(e["u"]) * s) @ value(e["v"]).T
        elif e["kind"] == "dense":
            d = value(e["delta"]) * s
        else:
            raise SystemExit("apply_check.py handles lowrank and dense edits only")
        deltas.setdefault(e["tensor"], []).append(d.T if base.transposed(e["tensor"]) else d)


def restrain(d, smax):
    if restraint == "none":
        return d, np.linalg.svd(d, compute_uv=False), 0
    u, s, vt = np.linalg.svd(d, full_matrices=False)
    f = s.copy()
    big = s >= smax
    if restraint == "log":
        f[big] = np.log(s[big]) / math.log(alpha) - math.log(smax) / math.log(alpha) + smax
    else:
        f[big] = (s[big] + smax) / 2
    return (u * f) @ vt, s, int(big.sum())


with safe_open(sidecar_path, framework="numpy") as sc:
    doc = json.loads(sc.metadata()["prune"])
    records = {t["name"]: t for t in doc["tensors"]}
    report = {}
    for name, ds in deltas.items():
        w0 = base.matrix(name)
        smax = np.linalg.norm(w0, 2)
        if schedule == "end":
            r, spectrum, nres = restrain(sum(ds[1:], ds[0].copy()), smax)
        else:
            # each: R_t = restrain(R_{t-1} + delta_t) against sigma_max(W0); the sidecar's
            # spectrum_before is that of the plain sum of the deltas.
            acc = np.zeros_like(w0)
            nres = 0
            for d in ds:
                acc, _, n = restrain(acc + d, smax)
                nres += n
            r = acc
            spectrum = np.linalg.svd(sum(ds[1:], ds[0].copy()), compute_uv=False)
        ref = w0 + r
        got = out.matrix(name)
        t = out.type(name)
        err = np.abs(got - ref)
        rmax = float(np.abs(r).max())
        if t in ("F32",):
            tol = 1e-5 * rmax + 1e-6 * np.abs(ref) + 1e-7
        elif t in ("F16",):
            tol = 2.0 ** -10 * np.abs(ref) + 1e-5 * rmax + 6.1e-5
        elif t in ("BF16",):
            tol = 2.0 ** -7 * np.abs(ref) + 1e-5 * rmax + 1e-30
        elif t == "Q8_0":
            blocks = np.abs(ref).reshape(-1, 32).max(axis=1, keepdims=True)
            tol = (np.broadcast_to(blocks / 127.0 * 1.01, (blocks.shape[0], 32)).reshape(ref.shape)
                   + 1e-5 * rmax)
        else:
            tol = None
        ok = bool((err <= tol).all()) if tol is not None else True
        # For coarse types (and as a second check for all): the change made is the restrained delta.
        change = got - w0
        cos = float((change * r).sum() / (np.linalg.norm(change) * np.linalg.norm(r)))
        rel = float(np.linalg.norm(got - ref) / np.linalg.norm(ref))
        if tol is None:
            ok = cos >= 0.9 and rel <= 0.15
        if not ok:
            failures.append(f"{name} ({t}): max error {float(err.max()):.3g}, rel {rel:.3g}, cos {cos:.4f}")
        rec = records.get(name)
        if rec is None:
            failures.append(f"{name}: no sidecar record")
            continue
        if abs(rec["sigma_max"] - smax) > 1e-6 * smax:
            failures.append(f"{name}: sidecar sigma_max {rec['sigma_max']} vs numpy {smax}")
        before = sc.get_tensor(rec["spectrum_before"]).astype(np.float64)
        k = min(len(before), len(spectrum))
        nz = spectrum[:k] > 1e-6 * spectrum[0]
        if not np.allclose(before[:k][nz], spectrum[:k][nz], rtol=1e-5, atol=1e-6 * spectrum[0]):
            failures.append(f"{name}: spectrum_before {before[:4]} vs numpy {spectrum[:4]}")
        if schedule == "end" and rec["components_restrained"] != nres:
            failures.append(f"{name}: components_restrained {rec['components_restrained']} vs numpy {nres}")
        after = np.linalg.svd(r, compute_uv=False)
        got_after = sc.get_tensor(rec["spectrum_after"]).astype(np.float64)
        k = min(len(after), len(got_after))
        nz = after[:k] > 1e-6 * after[0]
        if not np.allclose(got_after[:k][nz], after[:k][nz], rtol=1e-5, atol=1e-6 * after[0]):
            failures.append(f"{name}: spectrum_after {got_after[:4]} vs numpy {after[:4]}")
        if rec.get("kappa"):
            got_k = sc.get_tensor(rec["kappa"]).astype(np.float64)
            want_k = [np.linalg.cond(w0), np.linalg.cond(w0 + sum(ds[1:], ds[0].copy())), np.linalg.cond(w0 + r)]
            if not np.allclose(got_k, want_k, rtol=1e-6):
                failures.append(f"{name}: kappa {got_k.tolist()} vs numpy {want_k}")
        report[name] = {"type": t, "sigma_max": smax, "sigma_before": float(spectrum[0]),
                        "sigma_after": float(after[0]), "restrained": nres, "max_error": float(err.max()),
                        "cos": cos}

for name in base.names():
    if name not in deltas and base.raw(name) != out.raw(name):
        failures.append(f"{name}: not edited but its bytes changed")

print(json.dumps({"tensors": report, "failures": failures}))
sys.exit(1 if failures else 0)
