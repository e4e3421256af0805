#!/usr/bin/env python3
"""PyTorch eager reference of the CUDA device check: one encoder training step on the GPU, timed.

The step is the one xlt's benchmark times on its CUDA backend: zero the gradients, a training forward of a randomly
initialised BertModel / XLMRobertaModel (dropout 0.1) on one batch, backward of sum(hidden * dHidden) for a fixed
random dHidden (the task head is not part of the encoder step), gradient clipping at global norm 1, and
torch.optim.AdamW. Modes: fp32 (no TF32), tf32 (TF32 matmuls allowed), bf16 (torch.autocast bfloat16 around the
forward, fp32 weights and optimizer). Attention is transformers' default for the model (SDPA where available):
what a user of transformers gets without torch.compile, the baseline the issue names "PyTorch eager". Prints one JSON line per mode with the median step time over `--iters` steps
after `--warmup` (timed with CUDA events after synchronizing).

Usage: python3 torch_step.py --model xlm-roberta|bert --layers 12 --hidden 768 --heads 12 --ffn 3072
       --vocab 250002 --max-pos 514 --batch 32 --seq 128 --modes fp32,tf32,bf16 --warmup 3 --iters 10
"""
import argparse
import json
import statistics

import torch
from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="xlm-roberta", choices=["xlm-roberta", "bert"])
    for name, default in [("layers", 12), ("hidden", 768), ("heads", 12), ("ffn", 3072), ("vocab", 250002), ("max-pos", 514), ("batch", 32), ("seq", 128), ("warmup", 3), ("iters", 10)]:
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--modes", default="fp32,tf32,bf16")
    a = ap.parse_args()
    dev = torch.device("cuda")
    common = dict(vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers, num_attention_heads=a.heads,
                  intermediate_size=a.ffn, hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                  max_position_embeddings=a.max_pos)
    if a.model == "bert":
        model = BertModel(BertConfig(**common, type_vocab_size=2, pad_token_id=0), add_pooling_layer=False)
    else:
        model = XLMRobertaModel(XLMRobertaConfig(**common, type_vocab_size=1, pad_token_id=1, layer_norm_eps=1e-5), add_pooling_layer=False)
    model.to(dev).train()
    g = torch.Generator(device="cpu").manual_seed(1)
    ids = torch.randint(2, a.vocab, (a.batch, a.seq), generator=g).to(dev)
    mask = torch.ones(a.batch, a.seq, dtype=torch.long, device=dev)
    d_hidden = torch.randn(a.batch, a.seq, a.hidden, generator=g).to(dev) * 1e-3
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=5e-5)
    for mode in a.modes.split(","):
        torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
        torch.backends.cudnn.allow_tf32 = mode == "tf32"
        times = []
        for i in range(a.warmup + a.iters):
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            opt.zero_grad(set_to_none=False)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "bf16"):
                hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            (hidden.float() * d_hidden).sum().backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            end.record()
            torch.cuda.synchronize()
            if i >= a.warmup:
                times.append(start.elapsed_time(end))
        print(json.dumps({"impl": "pytorch-eager", "torch": torch.__version__, "mode": mode, "model": a.model,
                          "attention": model.config._attn_implementation, "median_ms": statistics.median(times), "min_ms": min(times), "iters": a.iters,
                          "peak_mem_mb": torch.cuda.max_memory_allocated() / 2**20}), flush=True)


if __name__ == "__main__":
    main()
