#!/usr/bin/env python3
"""abq's `lmeval.wikitext` record against lm-eval's per-page output (tools/bench/lmeval_wikitext.py).

Reads the abq store's per-document table (<eval>_rolling_<dataset>: doc, loglikelihood, words, bytes,
tokens, windows) and metrics, and the peer's JSON; prints both sides' word_perplexity /
byte_perplexity / bits_per_byte (from the same formulas over the pages the peer scored), the
per-page log-likelihood differences (abq - lm-eval, nats and nats per token) and every page whose
difference per token exceeds --tolerance. With --changed-pages-out, also writes the pages whose
token ids differ between SmolLM2's pre-tokenizer and the one transformers builds from the GGUF.

    python3 tools/bench/lmeval_wikitext_compare.py --store abq.h5 --peer lm_eval_smollm.json
"""
import argparse
import json
import math
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def abq_pages(store):
    with h5py.File(store, "r") as f:
        runs = list(f["runs"].values())
        if len(runs) != 1:
            sys.exit(f"{store}: expected one run, found {len(runs)}")
        run = runs[0]
        if run.attrs["status"] != "complete":
            sys.exit(f"{store}: run is {run.attrs['status']}: {run.attrs.get('error', '')}")
        tables = [name for name in run if "rolling_" in name]  # <eval>_rolling_<dataset>
        rows = run[tables[0]][()]
        metrics = {m["metric"].decode(): (m["protocol"].decode(), m["value"]) for m in run["metrics"][()]}
    pages = {int(r["doc"]): {k: r[k].item() for k in ("loglikelihood", "words", "bytes", "tokens", "windows")}
             for r in rows}
    return pages, metrics


def metrics_of(lls, words, nbytes):
    ll, w, b = sum(lls), sum(words), sum(nbytes)
    return {"word_perplexity": math.exp(-ll / w), "byte_perplexity": math.exp(-ll / b),
            "bits_per_byte": -ll / b / math.log(2)}


def changed_pages():
    sys.path.insert(0, HERE)
    import lmeval_wikitext as lw
    folder, name = os.path.split(lw.DEFAULT_GGUF)
    smollm, gguf = lw.load_tokenizer(folder, name, "smollm"), lw.load_tokenizer(folder, name, "gguf")
    pages = lw.pages_ref.pages_of(lw.pages_ref.read_text(os.path.join(lw.DATA, "wikitext2", "wiki.test.raw")))
    texts = [lw.pages_ref.detokenize(p) for p in pages]
    return [i for i, t in enumerate(texts)
            if smollm(t, add_special_tokens=False)["input_ids"] != gguf(t, add_special_tokens=False)["input_ids"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="nats per token")
    ap.add_argument("--pages", default="", help="the pages abq scored, in order, when it was given a subset as JSON "
                                                "lines (default: all, doc i = page i)")
    ap.add_argument("--changed-pages-out")
    args = ap.parse_args()
    ours, our_metrics = abq_pages(args.store)
    if args.pages:
        ours = {int(page): ours[i] for i, page in enumerate(args.pages.split(","))}
    peer = json.load(open(args.peer))
    docs = [d for d in peer["docs"] if d["page"] in ours]
    print(f"lm-eval {peer['lm_eval']} (torch {peer['torch']}, tokenizer {peer['tokenizer']}), "
          f"max_length {peer['max_length']}, {len(docs)} pages")
    for d in docs:
        o = ours[d["page"]]
        if (o["words"], o["bytes"]) != (d["words"], d["bytes"]):
            print(f"  page {d['page']}: words/bytes differ: abq {o['words']}/{o['bytes']}, lm-eval {d['words']}/{d['bytes']}")
    a = metrics_of([ours[d["page"]]["loglikelihood"] for d in docs], [d["words"] for d in docs],
                   [d["bytes"] for d in docs])
    b = metrics_of([d["loglikelihood"] for d in docs], [d["words"] for d in docs], [d["bytes"] for d in docs])
    for key in a:
        print(f"  {key:16} abq {a[key]:.7f}  lm-eval {b[key]:.7f}  (lm-eval's own aggregate "
              f"{peer['metrics'][key]:.7f})  relative {a[key] / b[key] - 1:+.2e}")
    if not args.pages:
        for metric, (protocol, value) in sorted(our_metrics.items()):
            print(f"  abq's record: {metric} = {value:.7f} ({protocol})")
    diff = np.array([ours[d["page"]]["loglikelihood"] - d["loglikelihood"] for d in docs])
    per_token = np.array([(ours[d["page"]]["loglikelihood"] - d["loglikelihood"]) / ours[d["page"]]["tokens"]
                          for d in docs])
    close = np.abs(per_token) <= args.tolerance
    spread = (f", those from {per_token[close].min():+.2e} to {per_token[close].max():+.2e} nats/token "
              f"(mean {per_token[close].mean():+.2e})") if close.any() else ""
    print(f"  per page ll(abq) - ll(lm-eval): {close.sum()} of {len(docs)} pages within {args.tolerance:g} "
          f"nats/token{spread}")
    for d, dd, pt, ok in zip(docs, diff, per_token, close):
        if not ok:
            o = ours[d["page"]]
            print(f"  page {d['page']}: abq ll {o['loglikelihood']:.4f} over {o['tokens']} tokens, lm-eval "
                  f"{d['loglikelihood']:.4f} over {d['tokens']} tokens: {dd:+.4f} nats ({pt:+.2e}/token)")
    if args.changed_pages_out:
        pages = changed_pages()
        with open(args.changed_pages_out, "w") as f:
            f.write(",".join(map(str, pages)))
        print(f"  pages whose ids differ between SmolLM2's pre-tokenizer and transformers' GGUF conversion: {pages}")


if __name__ == "__main__":
    main()
