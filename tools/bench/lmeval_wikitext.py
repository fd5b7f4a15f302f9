#!/usr/bin/env python3
"""lm-evaluation-harness's own `wikitext` task (`--model hf`) on SmolLM2-135M from abq's GGUF, per page.

The 62 pages of the local official wiki.test.raw (../shared/data/eval/wikitext2), split as
EleutherAI/wikitext_document_level was built (tools/fixtures/evaluators_lmeval_wikitext.py), are
written as JSON lines with a "page" field; the task file is lm-eval's wikitext.yaml with only the
dataset changed, and its `!function`s are lm-eval's own preprocess_wikitext.py (linked from the
installed lm_eval into a temporary folder, never copied into the tree). The model is loaded from
the GGUF by transformers (its Q4_1 weights dequantized to fp32, the weights abq computes with).

--tokenizer picks the tokenizer lm-eval is given:
  smollm  the GGUF's vocabulary and merges with the pre-tokenizer its `tokenizer.ggml.pre` =
          "smollm" names: Digits(individual_digits) then ByteLevel, as in SmolLM2's tokenizer.json
          (and llama.cpp / abq);
  gguf    exactly what transformers builds from the GGUF: its GGUF converter ignores
          tokenizer.ggml.pre and uses a plain ByteLevel pre-tokenizer.

    python3 tools/bench/lmeval_wikitext.py --max-length 2048 --out /tmp/lmeval.json [--docs 43,58]
Writes per page (index, loglikelihood, words, bytes, tokens) and lm-eval's aggregate metrics.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "../../../shared/data/eval"))
DEFAULT_GGUF = os.path.expanduser("~/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf")
sys.path.insert(0, os.path.join(HERE, "../fixtures"))
import evaluators_lmeval_wikitext as pages_ref  # noqa: E402  (page split of wiki.test.raw)

TASK = """task: abq_local_wikitext
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
output_type: loglikelihood_rolling
test_split: test
doc_to_text: ""
doc_to_target: !function preprocess_wikitext.wikitext_detokenizer
process_results: !function preprocess_wikitext.process_results
metric_list:
  - metric: word_perplexity
  - metric: byte_perplexity
  - metric: bits_per_byte
metadata:
  version: 2.0
"""


def load_tokenizer(folder, name, kind):
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if kind == "smollm":
        from tokenizers import pre_tokenizers
        tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True),
             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    return tok


def write_task(folder, pages):
    import lm_eval
    data = os.path.join(folder, "pages.jsonl")
    with open(data, "w", encoding="utf-8") as f:
        for page in pages:
            f.write(json.dumps({"page": page}) + "\n")
    lm_wikitext = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "wikitext", "preprocess_wikitext.py")
    os.symlink(lm_wikitext, os.path.join(folder, "preprocess_wikitext.py"))
    with open(os.path.join(folder, "abq_local_wikitext.yaml"), "w") as f:
        f.write(TASK.format(data=data))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--max-length", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokenizer", choices=["smollm", "gguf"], default="smollm")
    ap.add_argument("--docs", default="", help="comma-separated page indices (default: all 62)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    all_pages = pages_ref.pages_of(pages_ref.read_text(os.path.join(DATA, "wikitext2", "wiki.test.raw")))
    indices = [int(i) for i in args.docs.split(",")] if args.docs else list(range(len(all_pages)))
    pages = [all_pages[i] for i in indices]
    folder, name = os.path.split(args.gguf)
    tok = load_tokenizer(folder, name, args.tokenizer)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=1, max_length=args.max_length, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        write_task(tmp, pages)
        start = time.perf_counter()
        out = lm_eval.simple_evaluate(model=lm, tasks=["abq_local_wikitext"], task_manager=TaskManager(include_path=tmp),
                                      log_samples=True)
        seconds = time.perf_counter() - start
    results = out["results"]["abq_local_wikitext"]
    docs = []
    for sample in sorted(out["samples"]["abq_local_wikitext"], key=lambda s: s["doc_id"]):
        ll, words = sample["word_perplexity"]
        _, nbytes = sample["byte_perplexity"]
        text = pages_ref.detokenize(pages[sample["doc_id"]])
        docs.append({"page": indices[sample["doc_id"]], "loglikelihood": ll, "words": words, "bytes": nbytes,
                     "tokens": len(tok(text, add_special_tokens=False)["input_ids"])})
    summary = {key.split(",")[0]: value for key, value in results.items() if key.split(",")[0] in
               ("word_perplexity", "byte_perplexity", "bits_per_byte")}
    report = {"lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "?",
              "torch": torch.__version__, "tokenizer": args.tokenizer, "max_length": args.max_length,
              "prefix_token_id": lm.prefix_token_id, "seconds": seconds, "metrics": summary, "docs": docs}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"peer lm_eval-wikitext tokenizer={args.tokenizer} max_length={args.max_length} docs={len(docs)} "
          f"word_perplexity={summary['word_perplexity']:.6f} byte_perplexity={summary['byte_perplexity']:.7f} "
          f"bits_per_byte={summary['bits_per_byte']:.7f} ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
