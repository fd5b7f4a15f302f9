#!/usr/bin/env python3
"""Calibration time per decoder block of the PyTorch reference loops, beside abq_calib_bench.

Same shapes, windows and schedules as `build/tools/bench/abq_calib_bench` (random weights and
inputs: timing only), one LLaMA block in HF eager form taken from the learned-calibration fidelity
reference (tools/fixtures/calib_learned_reference.py, its module constants set to these shapes):

  abq_llm  that reference's training loop (the one tests/unit/calib/learned_fidelity_test.cpp
           matches), ABQ-LLM W4A4: LET pairs incl. fc2, compensation, DLC, attention KL, aug MSE,
           AdamW; after a warm-up run, run with E and 2E epochs: the difference divided by
           E·windows is one step.
  gptq     the GPTQ repository's llama_sequential loop, true-sequential ([q k v] [o] [gate up]
           [down]): forward hooks accumulate H = 2/N·Σ xxᵀ over every window, fasterquant per
           linear (damp 1 %, lazy blocks of 128 columns, W4 per-channel asymmetric min-max), then the
           block output over every window; best of 3.

    python3 tools/bench/torch_calib_block.py --method gptq|abq_llm [--hidden 576 --ffn 1536
        --heads 9 --kv-heads 3 --tokens 512 --windows 8 --epochs 1 --threads 1]
Prints one `peer …` line that tools/bench/python_peers.sh reads.
"""
import argparse
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../fixtures")))
import calib_learned_reference as ref  # noqa: E402

STAGES = [["q_proj", "k_proj", "v_proj"], ["o_proj"], ["gate_proj", "up_proj"], ["down_proj"]]


def set_shapes(args):
    ref.C, ref.F, ref.H, ref.HKV = args.hidden, args.ffn, args.heads, args.kv_heads
    ref.D, ref.G, ref.T, ref.WINDOWS = args.hidden // args.heads, args.heads // args.kv_heads, args.tokens, args.windows


def quantize_rows(w, scale, zero, maxq):
    return (torch.clamp(torch.round(w / scale) + zero, 0, maxq) - zero) * scale


def fasterquant(w, h, bits=4, blocksize=128, percdamp=0.01):
    """GPTQ with per-row min-max parameters from the whole weight (groupsize -1)."""
    w = w.clone()
    maxq = 2 ** bits - 1
    lo, hi = w.min(1).values.clamp(max=0), w.max(1).values.clamp(min=0)
    scale = ((hi - lo) / maxq).unsqueeze(1)
    zero = torch.round(-lo.unsqueeze(1) / scale)
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    h += percdamp * torch.mean(torch.diag(h)) * torch.eye(h.shape[0])
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    cols = w.shape[1]
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        w1, err1, hinv1 = w[:, i1:i2].clone(), torch.zeros(w.shape[0], i2 - i1), hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col, d = w1[:, i:i + 1], hinv1[i, i]
            q = quantize_rows(col, scale, zero, maxq)
            err = (col - q) / d
            w1[:, i:] -= err.matmul(hinv1[i:i + 1, i:])
            w1[:, i:i + 1] = q
            err1[:, i:i + 1] = err
        w[:, i1:i2] = w1
        w[:, i2:] -= err1.matmul(hinv[i1:i2, i2:])
    return w


@torch.inference_mode()
def gptq_block(w, xs):
    p = dict(w)
    plain_lin = ref.lin
    for stage in STAGES:
        hs, counts = {n: torch.zeros(p[n].shape[1], p[n].shape[1]) for n in stage}, {n: 0 for n in stage}

        def hooked(x, prm, name):  # GPTQ.add_batch: running mean of 2·xxᵀ
            if name in hs:
                rows = x.reshape(-1, x.shape[-1]).t()
                n_old, counts[name] = counts[name], counts[name] + 1
                hs[name] *= n_old / counts[name]
                rows = math.sqrt(2 / counts[name]) * rows
                hs[name] += rows.matmul(rows.t())
            return plain_lin(x, prm, name)

        ref.lin = hooked
        try:
            for x in xs:
                ref.block(x, p, 16)
        finally:
            ref.lin = plain_lin
        for n in stage:
            p[n] = fasterquant(p[n], hs[n])
    return [ref.block(x, p, 16) for x in xs]


ABQ_LLM_W4A4 = dict(name="abq_llm_w4a4", wbits=4, group=0, abits=4, bit_balance=False, let=True, fc2=True, comp=True,
                    ln_matrix=False, out_matrix=False, qk_matrix=False, shifts=False, sf=1.0, kl=True, aug=True,
                    dlc=True)


def learned_seconds(w, xs, epochs):
    start = time.perf_counter()
    ref.run_case(w, xs, dict(ABQ_LLM_W4A4, epochs=epochs))
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", choices=["gptq", "abq_llm"], required=True)
    for k, v in (("hidden", 576), ("ffn", 1536), ("heads", 9), ("kv-heads", 3), ("tokens", 512), ("windows", 8),
                 ("epochs", 1), ("threads", 1)):
        ap.add_argument("--" + k, type=int, default=v)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    set_shapes(args)
    w, xs = ref.make_weights()
    shape = f"block C {args.hidden} F {args.ffn} H {args.heads} Hkv {args.kv_heads}, {args.windows} windows x {args.tokens} tokens, {args.threads} threads"
    if args.method == "gptq":
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            gptq_block(w, xs)
            best = min(best, time.perf_counter() - start)
        print(f"peer torch-gptq {shape}: {best:.3f} s per block (best of 3)")
    else:
        learned_seconds(w, xs, 1)  # warm-up (allocator, autograd graph caches), not timed
        once, twice = learned_seconds(w, xs, args.epochs), learned_seconds(w, xs, 2 * args.epochs)
        per_step = (twice - once) / (args.epochs * args.windows)
        print(f"peer torch-abq_llm {shape}: runs {once:.2f} s / {twice:.2f} s, {per_step:.3f} s per optimizer step")


if __name__ == "__main__":
    main()
