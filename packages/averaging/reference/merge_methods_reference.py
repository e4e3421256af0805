#!/usr/bin/env python3
"""NumPy transcription of the merge methods of @xlt/averaging, written from the papers and mergekit's code.

Used only by the tests (src/merge-methods/merge-methods.spec.ts): independent of the TypeScript, it reads the
same safetensors files with its own parser and prints every merged float tensor as JSON.

    python3 merge_methods_reference.py case.json
    case.json: {"method": "ties", "params": {...}, "models": [{"path": ..., "weight": ...}], "base": path or null}
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        dtype = info["dtype"]
        if dtype == "BF16":
            values = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype in DTYPES:
            values = np.frombuffer(raw, np.dtype(DTYPES[dtype]).newbyteorder("<"))
        else:
            continue
        tensors[name] = values.astype(np.float64)
    return tensors


# --- DARE's counter-based mask rule (xlt's transcription of Bernoulli(density) per element) -------------------
M32 = 0xFFFFFFFF


def mix32(x):
    x &= M32
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    x ^= x >> 16
    return x


def name_hash(name):
    h = 0x811C9DC5
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & M32
    return h


def dare_key(seed, model, name):
    lo, hi = seed & M32, (seed >> 32) & M32
    return mix32(mix32(mix32(mix32(lo ^ 0x9E3779B9) ^ hi) ^ mix32(model ^ 0x85EBCA6B)) ^ name_hash(name))


def dare_mask(seed, model, name, n, density):
    key = dare_key(seed, model, name)
    threshold = int(np.floor(density * 2**32))
    return np.array([mix32(key ^ mix32(i ^ 0xC2B2AE35)) < threshold for i in range(n)])


# --- sparsification ------------------------------------------------------------------------------------------
def magnitude(delta, density):
    """TIES trim: keep the top k = max(1, floor(density n)) by |delta|, ties to the lower index (stable sort)."""
    if density >= 1:
        return delta
    k = max(1, int(np.floor(density * delta.size)))
    keep = np.argsort(-np.abs(delta), kind="stable")[:k]
    out = np.zeros_like(delta)
    out[keep] = delta[keep]
    return out


def bernoulli(delta, density, rescale, seed, model, name):
    """DARE: drop with probability 1 - density, survivors divided by density (mergekit's rescale)."""
    if density >= 1:
        return delta
    kept = np.where(dare_mask(seed, model, name, delta.size, density), delta, 0.0)
    return kept / density if rescale else kept


# --- mergekit's GeneralizedTaskArithmeticMerge ------------------------------------------------------------------
def generalized_task_arithmetic(name, models, weights, base, sparsify, consensus, normalize, lam):
    deltas = np.stack([sparsify(j, m - base) for j, m in enumerate(models)])
    w = np.array(weights)[:, None]
    weighted = deltas * w
    if consensus:
        majority = np.where(weighted.sum(axis=0) >= 0, 1.0, -1.0)
        mask = np.sign(weighted) == majority
        mixed = (weighted * mask).sum(axis=0)
        divisor = (w * mask).sum(axis=0)
        divisor[divisor == 0] = 1
    else:
        mixed = weighted.sum(axis=0)
        divisor = w.sum()
        if abs(divisor) < 1e-8:
            divisor = 1
    if normalize:
        mixed = mixed / divisor
    return base + lam * mixed


def density_of(params, j):
    d = params.get("density", 1)
    return d[j] if isinstance(d, list) else d


def merge(method, params, name, models, weights, base):
    if method == "linear":
        if params.get("normalize", True):
            weights = [w / sum(weights) for w in weights]
        return sum(w * m for w, m in zip(weights, models))
    if method == "task_arithmetic":
        return generalized_task_arithmetic(name, models, weights, base, lambda j, d: d, False, params.get("normalize", False), params.get("lambda", 1))
    if method == "ties":
        trim = lambda j, d: magnitude(d, density_of(params, j))
        return generalized_task_arithmetic(name, models, weights, base, trim, True, params.get("normalize", True), params.get("lambda", 1))
    if method in ("dare_linear", "dare_ties"):
        drop = lambda j, d: bernoulli(d, density_of(params, j), params.get("rescale", True), params.get("seed", 0), j, name)
        return generalized_task_arithmetic(name, models, weights, base, drop, method == "dare_ties", params.get("normalize", False), params.get("lambda", 1))
    if method == "model_stock":
        # Jang et al. 2024, eq. for t; mergekit's ModelStockMerge (filter_wise = false)
        offsets = [m - base for m in models]
        cos = []
        for i in range(len(offsets)):
            for j in range(i + 1, len(offsets)):
                norms = max(np.linalg.norm(offsets[i]) * np.linalg.norm(offsets[j]), 1e-6)
                cos.append(np.clip(np.dot(offsets[i], offsets[j]) / norms, -1, 1))
        c = np.mean(cos)
        n = len(models)
        t = n * c / (1 + (n - 1) * c)
        return t * (sum(models) / n) + (1 - t) * base
    if method == "slerp":
        # mergekit's slerp(t, v0, v1, DOT_THRESHOLD=0.9995, eps=1e-8)
        t = params.get("t", 0.5)
        v0, v1 = models
        n0, n1 = np.linalg.norm(v0), np.linalg.norm(v1)
        u0 = v0 / n0 if n0 > 1e-8 else v0
        u1 = v1 / n1 if n1 > 1e-8 else v1
        dot = np.sum(u0 * u1)
        if abs(dot) > 0.9995:
            return (1 - t) * v0 + t * v1
        theta = np.arccos(dot)
        return np.sin(theta - theta * t) / np.sin(theta) * v0 + np.sin(theta * t) / np.sin(theta) * v1
    raise SystemExit(f"unknown method {method}")


def main():
    with open(sys.argv[1]) as f:
        case = json.load(f)
    loaded = [read_safetensors(m["path"]) for m in case["models"]]
    base = read_safetensors(case["base"]) if case.get("base") else None
    weights = [m["weight"] for m in case["models"]]
    out = {}
    for name in loaded[0]:
        merged = merge(case["method"], case.get("params", {}), name, [m[name] for m in loaded], weights, base[name] if base else None)
        out[name] = [float(x) for x in np.asarray(merged).ravel()]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
