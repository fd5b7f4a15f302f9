#!/usr/bin/env python3
"""Writes a LLaMA-shaped Hugging Face checkpoint with random weights: sharded BF16 safetensors,
model.safetensors.index.json and config.json (model_type llama). Linear and embedding weights are
N(0, 0.02^2), norm weights 1. For memory and throughput measurements (e.g. streamed loading of a
7B-shaped model), not for accuracy: the weights mean nothing.

    python3 tools/make_synthetic_checkpoint.py --shape llama-7b --out /tmp/synthetic-llama-7b
    python3 tools/make_synthetic_checkpoint.py --shape tiny --out /tmp/synthetic-tiny

Needs numpy only. llama-7b is about 13.5 GB on disk: write it outside the repository.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

# C hidden, F intermediate, L layers, H heads, Hkv KV heads, V vocabulary.
SHAPES = {
    "llama-7b": dict(C=4096, F=11008, L=32, H=32, Hkv=32, V=32000),
    "tiny": dict(C=64, F=176, L=4, H=4, Hkv=2, V=320),
}
STD = 0.02


def tensor_specs(s):
    """(name, shape) in the order HF writes them: embeddings, layer by layer, final norm, lm_head."""
    C, F, D = s["C"], s["F"], s["C"] // s["H"]
    specs = [("model.embed_tokens.weight", (s["V"], C))]
    for i in range(s["L"]):
        p = f"model.layers.{i}."
        specs += [
            (p + "input_layernorm.weight", (C,)),
            (p + "self_attn.q_proj.weight", (s["H"] * D, C)),
            (p + "self_attn.k_proj.weight", (s["Hkv"] * D, C)),
            (p + "self_attn.v_proj.weight", (s["Hkv"] * D, C)),
            (p + "self_attn.o_proj.weight", (C, s["H"] * D)),
            (p + "post_attention_layernorm.weight", (C,)),
            (p + "mlp.gate_proj.weight", (F, C)),
            (p + "mlp.up_proj.weight", (F, C)),
            (p + "mlp.down_proj.weight", (C, F)),
        ]
    specs += [("model.norm.weight", (C,)), ("lm_head.weight", (s["V"], C))]
    return specs


def bf16_bytes(name, shape, rng):
    """BF16 bit patterns, round-to-nearest-even from float32, little-endian."""
    if name.endswith("norm.weight"):
        x = np.ones(shape, dtype=np.float32)
    else:
        x = rng.standard_normal(shape, dtype=np.float32) * np.float32(STD)
    bits = x.view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return rounded.astype("<u2").tobytes()


def plan_shards(specs, shard_bytes):
    """Consecutive tensors grouped so that each shard stays under shard_bytes (one tensor may exceed it)."""
    shards, current, size = [], [], 0
    for name, shape in specs:
        n = 2 * int(np.prod(shape))
        if current and size + n > shard_bytes:
            shards.append(current)
            current, size = [], 0
        current.append((name, shape))
        size += n
    if current:
        shards.append(current)
    return shards


def write_shard(path, tensors, rng):
    header, offset = {}, 0
    for name, shape in tensors:
        n = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the reference writer pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape in tensors:
            f.write(bf16_bytes(name, shape, rng))
    return offset


def config_json(s):
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "hidden_size": s["C"], "intermediate_size": s["F"], "num_hidden_layers": s["L"],
        "num_attention_heads": s["H"], "num_key_value_heads": s["Hkv"], "vocab_size": s["V"],
        "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": False, "attention_bias": False, "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "bfloat16",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--shard-gb", type=float, default=2.0, help="shard size in GB (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    shape = SHAPES[args.shape]
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    shards = plan_shards(tensor_specs(shape), int(args.shard_gb * 1e9))
    weight_map, total = {}, 0
    for k, tensors in enumerate(shards, 1):
        file = f"model-{k:05d}-of-{len(shards):05d}.safetensors"
        total += write_shard(os.path.join(args.out, file), tensors, rng)
        weight_map.update({name: file for name, _ in tensors})
        print(f"{file}: {len(tensors)} tensors", file=sys.stderr)
    with open(os.path.join(args.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config_json(shape), f, indent=2)
    print(f"{args.out}: {args.shape}, {total / 1e9:.2f} GB in {len(shards)} shards", file=sys.stderr)


if __name__ == "__main__":
    main()
