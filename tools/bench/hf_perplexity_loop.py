#!/usr/bin/env python3
"""Perplexity with a plain Hugging Face transformers loop, for comparison with abq.

The loop a researcher writes first: LlamaForCausalLM from the same SmolLM2-135M GGUF that
configs/models/smollm2_135m.yaml names (transformers dequantizes it; needs `gguf` and `accelerate`),
the text tokenized whole (the tokenizer's own BOS, as abq's `bos: auto`), cut into consecutive
windows of `seqlen` tokens, `model(ids, labels=ids).loss` per window, ppl = exp(mean loss). The
same windows as the perplexity entry of tools/bench/eval_speed_peers.yaml, so the printed ppl
should agree with abq's to about 1e-4 (fp32 forward in both).

    python3 tools/bench/hf_perplexity_loop.py [--seqlen 512] [--windows 8] [--threads 1]
Prints one `peer …` line that tools/bench/python_peers.sh reads.
"""
import argparse
import math
import os
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEXT = os.path.normpath(os.path.join(HERE, "../../experiments/data/sotu/heldout.txt"))
DEFAULT_GGUF = os.path.expanduser("~/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf")


@torch.inference_mode()
def window_losses(model, windows):
    return [model(input_ids=w, labels=w).loss.item() for w in windows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--seqlen", type=int, default=512)
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2, help="timed passes; the best is reported")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    folder, name = os.path.split(args.gguf)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    with open(args.text, encoding="utf-8") as f:
        ids = tok(f.read(), return_tensors="pt").input_ids
    n = min(args.windows, ids.shape[1] // args.seqlen)
    windows = [ids[:, i * args.seqlen:(i + 1) * args.seqlen] for i in range(n)]
    window_losses(model, windows[:1])  # warm-up (first-call allocations), not timed
    best = math.inf
    for _ in range(args.repeat):
        start = time.perf_counter()
        losses = window_losses(model, windows)
        best = min(best, time.perf_counter() - start)
    ppl = math.exp(sum(losses) / len(losses))
    print(f"peer transformers-perplexity {n} windows x {args.seqlen} tokens, {args.threads} threads: "
          f"{best:.2f} s, {n * args.seqlen / best:.1f} tokens/s, ppl {ppl:.4f}")


if __name__ == "__main__":
    main()
