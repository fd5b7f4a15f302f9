#!/usr/bin/env python3
"""HellaSwag scoring with a plain Hugging Face transformers loop, for comparison with abq.

Builds LlamaForCausalLM from the same SmolLM2-135M GGUF that configs/models/smollm2_135m.yaml
names (transformers dequantizes it; needs the `gguf` and `accelerate` packages), forms the requests as
evaluators/zero_shot_tasks.cpp does (lm-eval 0.4: preprocess(label: ctx) | " " + preprocess(ending),
_encode_pair, no BOS), and scores each (context, choice) with its own forward, batch size 1 as in
lm-eval's default: the summed log-probability of the continuation tokens. Reports examples/s on the
CPU and acc / acc_norm, comparable with `abq_eval_bench tools/bench/eval_speed.yaml` (same 40
documents by default).

    python3 tools/bench/hf_scoring_loop.py [--limit 40] [--threads 2]
"""
import argparse
import os
import re
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "../../../shared/data/eval/hellaswag/hellaswag_val_full.txt"))
DEFAULT_GGUF = os.path.expanduser("~/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf")


def preprocess(text):
    """lm-eval hellaswag utils.preprocess."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


def load_hellaswag(path, limit):
    """6 lines per document: context, gold index, 4 endings (acc_norm divides by len(ending))."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    docs = []
    for t in range(min(limit, len(lines) // 6)):
        block = lines[6 * t:6 * t + 6]
        docs.append((preprocess(block[0]), [preprocess(e) for e in block[2:6]], int(block[1])))
    return docs


def encode_pair(tok, context, continuation):
    """lm-eval HFLM._encode_pair (add_special_tokens=False: no BOS for LLaMA)."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tok.encode(context + continuation, add_special_tokens=False)
    ctx = tok.encode(context, add_special_tokens=False)
    return ctx, whole[len(ctx):]


@torch.inference_mode()
def loglikelihood(model, ctx, cont):
    ids = torch.tensor([(ctx + cont)[:-1]])
    logits = model(ids).logits[0, -len(cont):].float()
    logp = torch.log_softmax(logits, dim=-1)
    return logp.gather(-1, torch.tensor(cont).unsqueeze(-1)).sum().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    folder, name = os.path.split(args.gguf)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    docs = load_hellaswag(args.data, args.limit)
    requests = [[encode_pair(tok, ctx, " " + e) for e in endings] for ctx, endings, _ in docs]

    loglikelihood(model, *requests[0][0])  # warm-up (first-call allocations), not timed
    start = time.perf_counter()
    scores = [[loglikelihood(model, c, x) for c, x in doc] for doc in requests]
    seconds = time.perf_counter() - start

    acc = acc_norm = 0
    for (_, endings, gold), lls in zip(docs, scores):
        acc += max(range(4), key=lambda i: (lls[i], -i)) == gold
        acc_norm += max(range(4), key=lambda i: (lls[i] / len(endings[i]), -i)) == gold
    n = len(docs)
    print(f"hf transformers {n} hellaswag examples, {args.threads} threads: {seconds:.2f} s, "
          f"{n / seconds:.2f} ex/s, acc {acc / n:.3f}, acc_norm {acc_norm / n:.3f}")


if __name__ == "__main__":
    main()
