#!/usr/bin/env python3
"""PyTorch reference of xlt's training-backend conformance suite (a test tool, never part of the product).

`runBackendConformance` (`@xlt/plugin-api/testing`) writes a case folder and runs `python3 backend_reference.py DIR`;
a third-party backend author can run it by hand on the same folder. Needs torch and numpy.

DIR/manifest.json:
  config:      hidden, heads, layers, ffn, eps, act ("gelu" exact erf, "gelu_new", "relu"), wordPad, posPad (-1: none),
               hiddenDropout, attnDropout
  parameters:  [[name, shape], ...] in the order of DIR/params.f32 (float32, concatenated, little-endian)
  prefix:      "bert." / "roberta." (parameter names are prefix + HF's BertModel names)
  noDecay:     names excluded from weight decay
  batches:     [{batchSize, sequenceLength}, ...] with DIR/{ids,types,mask,pos}_<k>.i32 and DIR/r_<k>.f32
  eval:        batch index of the dropout-free forward -> hidden_eval.f32
  steps:       [{batch, seed, lr, beta1, beta2, epsilon, weightDecay}, ...]: per step a training forward with the
               dropout masks of `seed` -> hidden_<s>.f32, loss = sum(hidden * R_batch), backward -> grads_<s>.f32
               (every parameter, manifest order), one torch.optim.AdamW step (lr, betas, eps, weight decay of the
               step; the noDecay group without decay), zero_grad
  writes params_final.f32, m_final.f32, v_final.f32 (AdamW exp_avg, exp_avg_sq) after the last step.

The encoder is Hugging Face's BertModel / XLMRobertaModel (transformers v4 modeling_bert.py): summed word + token
type + position embeddings (nn.Embedding padding_idx: pad token row, RoBERTa's pad position row get no gradient),
LayerNorm, dropout; post-LN layers with the extended attention mask (1 - mask) * finfo(float32).min. Math in float64
so the reference's own rounding is negligible against a float32 backend's.

Dropout is xlt's backend-independent rule (packages/plugin-api/src/util/dropout-mask.ts), reproduced here bit for
bit: a 32-bit hash of (seed, site, element index); sites 0 = embeddings, 1+3l attention probabilities, 2+3l attention
output, 3+3l feed-forward output.
"""
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ModuleNotFoundError as e:  # a clear message for the suite to show
    sys.stderr.write(f"backend_reference.py needs the Python module '{e.name}' (pip install torch numpy, or Debian python3-torch python3-numpy)\n")
    sys.exit(3)

M32 = np.uint64(0xFFFFFFFF)


def mix32(x):
    """lowbias32 on uint64 arrays holding 32-bit values (products reduced mod 2^32)."""
    x = np.asarray(x, dtype=np.uint64) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M32
    x ^= x >> np.uint64(16)
    return x


def site_key(seed, site):
    lo, hi = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    k = mix32(mix32(mix32(np.uint64(lo ^ 0x9E3779B9)) ^ np.uint64(hi)) ^ mix32(np.uint64(site ^ 0x85EBCA6B)))
    return np.uint64(k)


def dropout_multiplier(seed, site, shape, p):
    """float64 tensor of float32(1/(1-p)) where kept and 0 where dropped (all ones when p == 0)."""
    n = int(np.prod(shape))
    if p == 0:
        return torch.ones(shape, dtype=torch.float64)
    idx = np.arange(n, dtype=np.uint64)
    bits = mix32(site_key(seed, site) ^ mix32(idx ^ np.uint64(0xC2B2AE35)))
    threshold = np.uint64(math.floor(p * 4294967296.0))
    scale = float(np.float32(1.0 / (1.0 - p)))
    mult = np.where(bits >= threshold, scale, 0.0).reshape(shape)
    return torch.from_numpy(mult)


def activation(x, act):
    if act == "relu":
        return F.relu(x)
    if act in ("gelu_new", "gelu_pytorch_tanh"):
        return F.gelu(x, approximate="tanh")
    return F.gelu(x)


def main(d):
    with open(os.path.join(d, "manifest.json")) as f:
        man = json.load(f)
    c = man["config"]
    torch.set_num_threads(1)
    raw = np.fromfile(os.path.join(d, "params.f32"), dtype="<f4")
    params, off = {}, 0
    for name, shape in man["parameters"]:
        n = int(np.prod(shape))
        params[name] = torch.tensor(raw[off:off + n].astype(np.float64).reshape(shape), requires_grad=True)
        off += n
    if off != raw.size:
        raise SystemExit(f"params.f32 holds {raw.size} floats, the manifest's parameters {off}")
    p = man["prefix"]
    H, nh, L = c["hidden"], c["heads"], c["layers"]
    dh = H // nh
    eps = c["eps"]
    ph, pa = c["hiddenDropout"], c["attnDropout"]

    def P(n):
        return params[p + n]

    def encoder(ids, types, mask, pos, seed):
        training = seed is not None
        B, T = ids.shape

        def drop(x, site, rate):
            return x * dropout_multiplier(seed, site, tuple(x.shape), rate) if training and rate > 0 else x

        word = F.embedding(ids, P("embeddings.word_embeddings.weight"), padding_idx=c["wordPad"])
        pos_pad = c["posPad"] if c["posPad"] >= 0 else None
        x = word + F.embedding(types, P("embeddings.token_type_embeddings.weight"))
        x = x + F.embedding(pos, P("embeddings.position_embeddings.weight"), padding_idx=pos_pad)
        x = F.layer_norm(x, (H,), P("embeddings.LayerNorm.weight"), P("embeddings.LayerNorm.bias"), eps)
        x = drop(x, 0, ph)
        bias = (1.0 - mask[:, None, None, :].to(torch.float64)) * torch.finfo(torch.float32).min
        for i in range(L):
            q = f"encoder.layer.{i}."

            def lin(t, n):
                return F.linear(t, P(q + n + ".weight"), P(q + n + ".bias"))

            def split(t):
                return t.view(B, T, nh, dh).permute(0, 2, 1, 3)

            Q, K, V = split(lin(x, "attention.self.query")), split(lin(x, "attention.self.key")), split(lin(x, "attention.self.value"))
            s = torch.matmul(Q, K.transpose(-1, -2)) / math.sqrt(dh) + bias
            probs = drop(torch.softmax(s, dim=-1), 1 + 3 * i, pa)
            ctx = torch.matmul(probs, V).permute(0, 2, 1, 3).reshape(B, T, H)
            attended = drop(lin(ctx, "attention.output.dense"), 2 + 3 * i, ph)
            x = F.layer_norm(attended + x, (H,), P(q + "attention.output.LayerNorm.weight"), P(q + "attention.output.LayerNorm.bias"), eps)
            h = activation(lin(x, "intermediate.dense"), c["act"])
            out = drop(lin(h, "output.dense"), 3 + 3 * i, ph)
            x = F.layer_norm(out + x, (H,), P(q + "output.LayerNorm.weight"), P(q + "output.LayerNorm.bias"), eps)
        return x

    def batch(k):
        b = man["batches"][k]
        B, T = b["batchSize"], b["sequenceLength"]

        def load_i(n):
            return torch.from_numpy(np.fromfile(os.path.join(d, f"{n}_{k}.i32"), dtype="<i4").astype(np.int64).reshape(B, T))

        R = torch.from_numpy(np.fromfile(os.path.join(d, f"r_{k}.f32"), dtype="<f4").astype(np.float64).reshape(B, T, H))
        return load_i("ids"), load_i("types"), load_i("mask"), load_i("pos"), R

    def write(name, tensors):
        np.concatenate([t.detach().numpy().ravel() for t in tensors]).astype("<f4").tofile(os.path.join(d, name))

    names = [n for n, _ in man["parameters"]]
    with torch.no_grad():
        ids, types, mask, pos, _ = batch(man["eval"])
        write("hidden_eval.f32", [encoder(ids, types, mask, pos, None)])

    no_decay = set(man["noDecay"])
    steps = man["steps"]
    opt = None
    for s, step in enumerate(steps):
        if opt is None:
            opt = torch.optim.AdamW(
                [{"params": [params[n] for n in names if n not in no_decay], "weight_decay": step["weightDecay"]},
                 {"params": [params[n] for n in names if n in no_decay], "weight_decay": 0.0}],
                lr=step["lr"], betas=(step["beta1"], step["beta2"]), eps=step["epsilon"], foreach=False)
        for g in opt.param_groups:
            g["lr"] = step["lr"]
            g["betas"] = (step["beta1"], step["beta2"])
            g["eps"] = step["epsilon"]
        opt.param_groups[0]["weight_decay"] = step["weightDecay"]
        ids, types, mask, pos, R = batch(step["batch"])
        hidden = encoder(ids, types, mask, pos, int(step["seed"]))
        write(f"hidden_{s}.f32", [hidden])
        (hidden * R).sum().backward()
        write(f"grads_{s}.f32", [params[n].grad if params[n].grad is not None else torch.zeros_like(params[n]) for n in names])
        opt.step()
        opt.zero_grad(set_to_none=False)
    write("params_final.f32", [params[n] for n in names])
    if opt is not None:
        write("m_final.f32", [opt.state[params[n]]["exp_avg"] for n in names])
        write("v_final.f32", [opt.state[params[n]]["exp_avg_sq"] for n in names])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: backend_reference.py CASE_DIR (written by runBackendConformance)")
    main(sys.argv[1])
