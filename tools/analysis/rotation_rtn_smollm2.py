#!/usr/bin/env python3
"""Independent check of how a residual rotation interacts with round-to-nearest weights on SmolLM2.

Plain PyTorch + transformers (no abqlab code): loads the GGUF the quickstart uses, then measures
held-out perplexity for
  1. RTN alone, RTN after norm folding only (identity rotation), RTN after folding + a random
     orthogonal residual rotation (QuaRot's fused form);
  2. per linear group (q/k/v, gate/up, o, down), RTN of that group alone with and without an
     online rotation of its input (the norm weights kept), W3.
The numbers are quoted in framework/methods/corrections/README.md (rotation, `residual: online`).

    pip install torch transformers gguf
    python3 tools/analysis/rotation_rtn_smollm2.py [--gguf PATH] [--windows 4] [--seqlen 256]
"""
import argparse
import math
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

LINEARS = {"qkv": ("self_attn", ["q_proj", "k_proj", "v_proj"]), "gate_up": ("mlp", ["gate_proj", "up_proj"]),
           "o": ("self_attn", ["o_proj"]), "down": ("mlp", ["down_proj"])}


def rtn(w, bits):
    """Asymmetric min-max round-to-nearest per output row (the range always holds 0)."""
    lo = w.min(1, keepdim=True).values.clamp(max=0)
    hi = w.max(1, keepdim=True).values.clamp(min=0)
    step = ((hi - lo) / (2**bits - 1)).clamp(min=1e-8)
    zero = torch.round(-lo / step)
    return (torch.clamp(torch.round(w / step) + zero, 0, 2**bits - 1) - zero) * step


def linears(layer, groups):
    for g in groups:
        module, names = LINEARS[g]
        for n in names:
            yield getattr(getattr(layer, module), n)


@torch.no_grad()
def perplexity(model, windows):
    nll = sum(torch.nn.functional.cross_entropy(model(w[None]).logits[0, :-1].double(), w[1:], reduction="sum").item()
              for w in windows)
    return math.exp(nll / sum(len(w) - 1 for w in windows))


@torch.no_grad()
def fold_and_rotate(model, q):
    """Norm weights into their readers (lm_head untied), then the residual stream rotated by q."""
    model.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.clone())
    for layer in model.model.layers:
        for norm, groups in [(layer.input_layernorm, ["qkv"]), (layer.post_attention_layernorm, ["gate_up"])]:
            for lin in linears(layer, groups):
                lin.weight.mul_(norm.weight[None, :])
            norm.weight.fill_(1.0)
    model.lm_head.weight.mul_(model.model.norm.weight[None, :])
    model.model.norm.weight.fill_(1.0)
    model.model.embed_tokens.weight.copy_(model.model.embed_tokens.weight.double() @ q)
    model.lm_head.weight.copy_(model.lm_head.weight.double() @ q)
    for layer in model.model.layers:
        for lin in linears(layer, ["qkv", "gate_up"]):
            lin.weight.copy_(lin.weight.double() @ q)
        for lin in linears(layer, ["o", "down"]):
            lin.weight.copy_(q.T @ lin.weight.double())


@torch.no_grad()
def quantize(model, bits, groups=("qkv", "gate_up", "o", "down"), input_rotation=None):
    """RTN of the given groups; input_rotation(group) -> R quantizes W·R and maps back (online R)."""
    for layer in model.model.layers:
        for g in groups:
            r = input_rotation(g) if input_rotation else None
            for lin in linears(layer, [g]):
                w = lin.weight.double()
                lin.weight.copy_(rtn(w, bits) if r is None else rtn(w @ r, bits) @ r.T)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", default=os.path.expanduser("~/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--text", default=os.path.join(os.path.dirname(__file__), "../../experiments/data/sotu/heldout.txt"))
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--seqlen", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder, name = os.path.split(args.gguf)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    ids = tokenizer(open(args.text).read(), return_tensors="pt").input_ids[0]
    windows = [ids[i * args.seqlen:(i + 1) * args.seqlen] for i in range(args.windows)]

    def load():
        return AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()

    torch.manual_seed(0)
    hidden = load().config.hidden_size
    q = torch.linalg.qr(torch.randn(hidden, hidden, dtype=torch.float64))[0]
    for label, rotation in [("plain", None), ("folded only", torch.eye(hidden, dtype=torch.float64)),
                            ("folded + rotated", q)]:
        model = load()
        if rotation is not None:
            fold_and_rotate(model, rotation)
        fp = perplexity(model, windows)
        quantize(model, 4)
        print(f"{label:18s} fp {fp:8.3f}   RTN W4 per-channel {perplexity(model, windows):9.3f}", flush=True)

    config = load().config
    head = torch.linalg.qr(torch.randn(config.head_dim, config.head_dim, dtype=torch.float64))[0]
    ffn = torch.linalg.qr(torch.randn(config.intermediate_size, config.intermediate_size, dtype=torch.float64))[0]
    per_group_input = {"qkv": q, "gate_up": q, "o": torch.block_diag(*[head] * config.num_attention_heads), "down": ffn}
    for g in LINEARS:
        row = []
        for rotated in (False, True):
            model = load()
            quantize(model, 3, [g], (lambda _g: per_group_input[_g]) if rotated else None)
            row.append(perplexity(model, windows))
        print(f"W3 only {g:8s} plain {row[0]:8.2f}   input rotated online {row[1]:8.2f}", flush=True)


if __name__ == "__main__":
    main()
