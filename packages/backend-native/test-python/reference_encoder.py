#!/usr/bin/env python3
"""Test-only PyTorch reference for @xlt/backend-native (never part of the product).

Reads <dir>/manifest.json and raw little-endian float32/int32 files written by the spec, runs HF BertModel /
XLMRobertaModel encoder math in torch (post-LN, exact erf GELU, extended attention mask (1-mask)*finfo.min,
nn.Embedding padding_idx on the word table and, for RoBERTa, on the position table), dropout 0, and for each
step: forward, loss = sum(hidden * R), backward, torch.optim.AdamW step, zero_grad. Writes hidden_<k>.f32,
grads_<k>.f32 (every parameter in manifest order, concatenated) and params_final.f32.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def main(d):
    man = json.load(open(os.path.join(d, "manifest.json")))
    c = man["config"]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    raw = np.fromfile(os.path.join(d, "params.f32"), dtype=np.float32)
    params, off = {}, 0
    for name, shape in man["parameters"]:
        n = int(np.prod(shape))
        params[name] = torch.tensor(raw[off:off + n].reshape(shape), requires_grad=True)
        off += n
    p = man["prefix"]
    H, nh, L = c["hidden"], c["heads"], c["layers"]
    dh = H // nh
    eps = c["eps"]

    def P(n):
        return params[p + n]

    def encoder(ids, types, mask, pos):
        word = F.embedding(ids, P("embeddings.word_embeddings.weight"), padding_idx=c["wordPad"])
        pos_pad = c["posPad"] if c["posPad"] >= 0 else None
        x = word + F.embedding(types, P("embeddings.token_type_embeddings.weight"))
        x = x + F.embedding(pos, P("embeddings.position_embeddings.weight"), padding_idx=pos_pad)
        x = F.layer_norm(x, (H,), P("embeddings.LayerNorm.weight"), P("embeddings.LayerNorm.bias"), eps)
        bias = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        B, T = ids.shape
        for i in range(L):
            q = f"encoder.layer.{i}."
            lin = lambda t, n: F.linear(t, P(q + n + ".weight"), P(q + n + ".bias"))
            split = lambda t: t.view(B, T, nh, dh).permute(0, 2, 1, 3)
            Q, K, V = split(lin(x, "attention.self.query")), split(lin(x, "attention.self.key")), split(lin(x, "attention.self.value"))
            s = torch.matmul(Q, K.transpose(-1, -2)) / math.sqrt(dh) + bias
            ctx = torch.matmul(torch.softmax(s, dim=-1), V).permute(0, 2, 1, 3).reshape(B, T, H)
            x = F.layer_norm(lin(ctx, "attention.output.dense") + x, (H,), P(q + "attention.output.LayerNorm.weight"), P(q + "attention.output.LayerNorm.bias"), eps)
            h = F.gelu(lin(x, "intermediate.dense"))
            x = F.layer_norm(lin(h, "output.dense") + x, (H,), P(q + "output.LayerNorm.weight"), P(q + "output.LayerNorm.bias"), eps)
        return x

    a = man["adamw"]
    decay = [params[n] for n, _ in man["parameters"] if n not in set(man["noDecay"])]
    no_decay = [params[n] for n, _ in man["parameters"] if n in set(man["noDecay"])]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a["wd"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a["lr"], betas=(a["b1"], a["b2"]), eps=a["eps"])
    for k, step in enumerate(man["steps"]):
        B, T = step["batchSize"], step["sequenceLength"]
        load_i = lambda n: torch.tensor(np.fromfile(os.path.join(d, f"{n}_{k}.i32"), dtype=np.int32).astype(np.int64).reshape(B, T))
        ids, types, mask, pos = load_i("ids"), load_i("types"), load_i("mask"), load_i("pos")
        R = torch.tensor(np.fromfile(os.path.join(d, f"r_{k}.f32"), dtype=np.float32).reshape(B, T, H))
        hidden = encoder(ids, types, mask, pos)
        hidden.detach().numpy().astype(np.float32).tofile(os.path.join(d, f"hidden_{k}.f32"))
        (hidden * R).sum().backward()
        g = [params[n].grad if params[n].grad is not None else torch.zeros_like(params[n]) for n, _ in man["parameters"]]
        np.concatenate([t.detach().numpy().ravel() for t in g]).astype(np.float32).tofile(os.path.join(d, f"grads_{k}.f32"))
        opt.step()
        opt.zero_grad(set_to_none=False)
    np.concatenate([params[n].detach().numpy().ravel() for n, _ in man["parameters"]]).astype(np.float32).tofile(
        os.path.join(d, "params_final.f32"))


if __name__ == "__main__":
    main(sys.argv[1])
