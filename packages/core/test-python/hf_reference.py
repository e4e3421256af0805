"""PyTorch reference for loading HF model folders (test-only; never part of the product).

Mirrors Hugging Face transformers' BertModel and XLMRobertaModel (v4.x `modeling_bert.py` / `modeling_roberta.py`):
the same modules, parameter names and arithmetic (post-LN blocks, exact erf GELU, additive mask with the dtype
minimum, RoBERTa position ids from the input ids). `transformers` itself is not installed here, so the modules are
written out; torch and numpy come from Debian's python3-torch (`.ci/run` installs it).

Usage: hf_reference.py --model-type bert|xlm-roberta --out DIR [--seed N] [--no-prefix] [--with-mlm-head]
           [--mlm-head tied|untied|no-decoder] [--with-position-ids] [--gamma-beta]
           [--weights-format safetensors|bin|bin-legacy|bin-sharded] [--storage-dtype D] [--noncontiguous]
       hf_reference.py --forward MODEL_DIR INPUTS.safetensors OUT.safetensors   (an existing folder, data tests)
Writes DIR/model/{config.json,model.safetensors} (an HF model folder with random weights) and
DIR/reference.safetensors with the inputs and last_hidden_state: what loading the folder must reproduce. The checkpoint
variants that users' folders have are options: real pretraining-head names with the decoder tied, untied or not
saved, the int64 position_ids buffer older transformers saved, LayerNorm gamma/beta names (TF-converted BERT), and
pytorch_model.bin written by torch.save (zip, legacy or sharded; any float storage dtype; strided views).
DIR/saved_keys.json lists the tensor names saved, in order.
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch
from torch import nn


class Embeddings(nn.Module):
    def __init__(self, c, roberta):
        super().__init__()
        self.roberta = roberta
        self.pad = c["pad_token_id"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=self.pad)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"], padding_idx=self.pad if roberta else None)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, input_ids, token_type_ids):
        if self.roberta:
            # HF create_position_ids_from_input_ids (past_key_values_length 0)
            mask = input_ids.ne(self.pad).int()
            position_ids = (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + self.pad
        else:
            position_ids = torch.arange(input_ids.shape[1]).unsqueeze(0).expand(input_ids.shape)
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings += self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(embeddings)), position_ids


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n = c["num_attention_heads"]
        self.d = c["hidden_size"] // self.n
        self.query = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.key = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.value = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def heads(self, x):
        return x.view(x.size()[:-1] + (self.n, self.d)).permute(0, 2, 1, 3)

    def forward(self, h, ext_mask):
        q, k, v = self.heads(self.query(h)), self.heads(self.key(h)), self.heads(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d) + ext_mask
        probs = self.dropout(nn.functional.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.n * self.d,))


class SelfOutput(nn.Module):
    def __init__(self, c, inner):
        super().__init__()
        self.dense = nn.Linear(inner, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = SelfOutput(c, c["hidden_size"])

    def forward(self, h, ext_mask):
        return self.output(self.self(h, ext_mask), h)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = c["hidden_act"]

    def forward(self, x):
        x = self.dense(x)
        if self.act == "gelu":
            return nn.functional.gelu(x)
        if self.act == "relu":
            return nn.functional.relu(x)
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = SelfOutput(c, c["intermediate_size"])

    def forward(self, h, ext_mask):
        a = self.attention(h, ext_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, h, ext_mask):
        for layer in self.layer:
            h = layer(h, ext_mask)
        return h


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BaseModel(nn.Module):
    """BertModel / XLMRobertaModel: embeddings, encoder, pooler."""

    def __init__(self, c, roberta):
        super().__init__()
        self.embeddings = Embeddings(c, roberta)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        emb, position_ids = self.embeddings(input_ids, token_type_ids)
        dtype = emb.dtype
        ext = (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
        return self.encoder(emb, ext), position_ids


class Prefixed(nn.Module):
    """A task model's layout: the base model under `bert.` / `roberta.`, optionally with an MLM head to ignore."""

    def __init__(self, name, base, mlm_head):
        super().__init__()
        setattr(self, name, base)
        if mlm_head is not None:
            for key, module in mlm_head.items():
                setattr(self, key, module)


def write_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer (the `safetensors` package is not installed): F32/I32/I64, little-endian."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("int64"): "I64"}[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """A minimal safetensors reader (F32/I32/I64 only), returning numpy arrays by name."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": "<f4", "I32": "<i4", "I64": "<i8"}[info["dtype"]]
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=dtype).reshape(info["shape"]).copy()
    return out


def forward_existing(model_dir, inputs_path, out_path):
    """last_hidden_state (float64 math) of an existing HF folder for the int32 inputs in `inputs_path`."""
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    roberta = c["model_type"] in ("xlm-roberta", "roberta")
    prefix = "roberta." if roberta else "bert."
    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    state = {k[len(prefix):] if k.startswith(prefix) else k: torch.from_numpy(v) for k, v in weights.items()}
    model = BaseModel(c, roberta).double()
    wanted = model.state_dict().keys()
    model.load_state_dict({k: v for k, v in state.items() if k in wanted}, strict=True)
    model.eval()
    inputs = read_safetensors(inputs_path)
    with torch.no_grad():
        ids = torch.from_numpy(inputs["input_ids"]).long()
        hidden, _ = model(ids, torch.from_numpy(inputs["attention_mask"]).long(), torch.from_numpy(inputs["token_type_ids"]).long())
    write_safetensors(out_path, {"last_hidden_state": hidden.float().numpy()})


def add_mlm_head(state, c, roberta, prefix, decoder):
    """The pretraining heads by their HF names (BertForPreTraining: cls.predictions + cls.seq_relationship;
    RobertaForMaskedLM: lm_head), with the decoder weight tied (the word-embedding tensor itself, so torch.save
    stores one storage under two names), untied (its own values) or not saved."""
    h, v = c["hidden_size"], c["vocab_size"]
    head = "lm_head." if roberta else "cls.predictions."
    norm = "layer_norm" if roberta else "transform.LayerNorm"
    dense = "dense" if roberta else "transform.dense"
    shapes = {f"{head}{dense}.weight": (h, h), f"{head}{dense}.bias": (h,), f"{head}{norm}.weight": (h,), f"{head}{norm}.bias": (h,), f"{head}bias": (v,)}
    if not roberta:
        shapes.update({"cls.seq_relationship.weight": (2, h), "cls.seq_relationship.bias": (2,)})
    for name, shape in shapes.items():
        state[name] = 0.2 * torch.randn(shape)
    if decoder == "tied":
        state[f"{head}decoder.weight"] = state[f"{prefix}.embeddings.word_embeddings.weight"]
    elif decoder == "untied":
        state[f"{head}decoder.weight"] = 0.2 * torch.randn(v, h)
    if decoder != "no-decoder":
        state[f"{head}decoder.bias"] = state[f"{head}bias"]


def rename_gamma_beta(state):
    """LayerNorm.weight/.bias as LayerNorm.gamma/.beta, order kept (the names of TF-converted BERT checkpoints)."""
    renamed = type(state)()
    for k, v in state.items():
        if k.endswith("LayerNorm.weight"):
            k = k[: -len("weight")] + "gamma"
        elif k.endswith("LayerNorm.bias"):
            k = k[: -len("bias")] + "beta"
        renamed[k] = v
    if hasattr(state, "_metadata"):
        renamed._metadata = state._metadata
    return renamed


def save_weights(folder, state, args):
    """model.safetensors, or pytorch_model.bin by torch.save (tied tensors keep sharing their storage)."""
    if args.weights_format == "safetensors":
        write_safetensors(os.path.join(folder, "model.safetensors"), {k: v.detach().numpy() for k, v in state.items()}, {"format": "pt"})
        return
    dtype = getattr(torch, args.storage_dtype)
    converted = {}

    def convert(v):
        if id(v) not in converted:
            w = v.detach().to(dtype) if v.is_floating_point() else v.detach()
            converted[id(v)] = w.t().contiguous().t() if args.noncontiguous and w.dim() == 2 else w
        return converted[id(v)]

    out = type(state)((k, convert(v)) for k, v in state.items())
    if hasattr(state, "_metadata"):
        out._metadata = state._metadata
    if args.weights_format == "bin":
        torch.save(out, os.path.join(folder, "pytorch_model.bin"))
    elif args.weights_format == "bin-legacy":
        torch.save(out, os.path.join(folder, "pytorch_model.bin"), _use_new_zipfile_serialization=False)
    else:
        keys = list(out.keys())
        shards = [keys[: len(keys) // 2], keys[len(keys) // 2 :]]
        weight_map = {}
        for i, names in enumerate(shards):
            file = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
            torch.save(type(out)((k, out[k]) for k in names), os.path.join(folder, file))
            weight_map.update({k: file for k in names})
        with open(os.path.join(folder, "pytorch_model.bin.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": sum(v.numel() * v.element_size() for v in out.values())}, "weight_map": weight_map}, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forward", nargs=3, metavar=("MODEL_DIR", "INPUTS", "OUT"), help="only run an existing model on given inputs")
    ap.add_argument("--model-type", choices=["bert", "xlm-roberta"])
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-prefix", action="store_true", help="save as the base model (BertModel layout, no prefix)")
    ap.add_argument("--with-mlm-head", action="store_true", help="add cls.* / lm_head.* tensors (xlt ignores them)")
    ap.add_argument("--mlm-head", choices=["tied", "untied", "no-decoder"], help="add BertForPreTraining / RobertaForMaskedLM heads by their HF names, the decoder weight tied to the word embeddings, untied, or not saved (as save_pretrained drops tied weights)")
    ap.add_argument("--with-position-ids", action="store_true", help="save the int64 embeddings.position_ids buffer (transformers < 4.31 did)")
    ap.add_argument("--gamma-beta", action="store_true", help="save LayerNorm.weight/.bias as LayerNorm.gamma/.beta (TF-converted BERT)")
    ap.add_argument("--weights-format", choices=["safetensors", "bin", "bin-legacy", "bin-sharded"], default="safetensors", help="model.safetensors, or pytorch_model.bin by torch.save (zip; legacy pre-1.6 format; two shards and an index)")
    ap.add_argument("--storage-dtype", choices=["float32", "float16", "bfloat16", "float64"], default="float32", help="dtype of the saved float tensors (.bin only); the weights are rounded to it first, so the reference matches")
    ap.add_argument("--noncontiguous", action="store_true", help="save 2-D tensors as transposed views (column-major strides; .bin only)")
    args = ap.parse_args()
    if args.forward:
        forward_existing(*args.forward)
        return
    if not args.model_type or not args.out:
        ap.error("--model-type and --out are required (or --forward)")
    if args.mlm_head and (args.no_prefix or args.with_mlm_head):
        ap.error("--mlm-head needs the prefixed layout and replaces --with-mlm-head")
    if args.weights_format == "safetensors" and (args.storage_dtype != "float32" or args.noncontiguous):
        ap.error("--storage-dtype and --noncontiguous need a .bin --weights-format")
    torch.manual_seed(args.seed)
    roberta = args.model_type == "xlm-roberta"
    c = {
        "architectures": ["XLMRobertaModel" if roberta else "BertModel"],
        "model_type": args.model_type,
        "vocab_size": 97,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": 24 if roberta else 20,
        "type_vocab_size": 1 if roberta else 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-5 if roberta else 1e-12,
        "pad_token_id": 1 if roberta else 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.40.0",
        "a_field_xlt_does_not_use": {"kept": True},
    }
    base = BaseModel(c, roberta)
    # Larger-than-HF random weights so that every parameter matters visibly; LayerNorm affine params random too.
    with torch.no_grad():
        for name, p in base.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
            # Round to the saved dtype so that the float64 reference computes with the weights the file holds.
            p.copy_(p.to(getattr(torch, args.storage_dtype)).float())
    prefix = "roberta" if roberta else "bert"
    mlm = None
    if args.with_mlm_head:
        mlm = {"lm_head": nn.Linear(c["hidden_size"], c["vocab_size"])} if roberta else {"cls": nn.Sequential(nn.Linear(c["hidden_size"], c["hidden_size"]))}
    model = base if args.no_prefix else Prefixed(prefix, base, mlm)
    folder = os.path.join(args.out, "model")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    state = model.state_dict()
    if args.mlm_head:
        add_mlm_head(state, c, roberta, prefix, args.mlm_head)
    if args.with_position_ids:
        state[("" if args.no_prefix else prefix + ".") + "embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    if args.gamma_beta:
        state = rename_gamma_beta(state)
    save_weights(folder, state, args)
    with open(os.path.join(args.out, "saved_keys.json"), "w") as f:
        json.dump(list(state.keys()), f)

    # Inputs: 3 rows of 9 tokens, rows 1 and 2 padded at the end, BERT rows with two segments.
    pad = c["pad_token_id"]
    B, T = 3, 9
    ids = torch.randint(2, c["vocab_size"], (B, T))
    mask = torch.ones(B, T, dtype=torch.long)
    for row, length in ((1, 6), (2, 3)):
        ids[row, length:] = pad
        mask[row, length:] = 0
    types = torch.zeros(B, T, dtype=torch.long)
    if not roberta:
        types[0, 5:] = 1
        types[1, 3:6] = 1

    # The model folder's reference hidden states, in float64 (the backends' gradients, AdamW and dropout are checked
    # by the one backend conformance suite of @xlt/plugin-api against its own reference).
    ref = BaseModel(c, roberta).double()
    ref.load_state_dict(base.state_dict())
    with torch.no_grad():
        hidden, position_ids = ref(ids, mask, types)

    out = {
        "input_ids": ids.int().numpy(),
        "attention_mask": mask.int().numpy(),
        "token_type_ids": types.int().numpy(),
        "position_ids": position_ids.int().numpy(),
        "last_hidden_state": hidden.detach().float().numpy(),
    }
    write_safetensors(os.path.join(args.out, "reference.safetensors"), out)


if __name__ == "__main__":
    main()
