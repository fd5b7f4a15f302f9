#!/usr/bin/env python3
"""PIQA and HellaSwag through lm-evaluation-harness (`--model hf`), for comparison with abq.

The same first `limit` documents that tools/bench/eval_speed_peers.yaml scores, read from the local
official sets in ../shared/data/eval: this script writes them as jsonl plus two task files (the
fields and templates of lm-eval's piqa.yaml and hellaswag.yaml, HellaSwag's `preprocess` applied
here because the local file is the derived six-line format) into a temporary folder, loads
SmolLM2-135M from the same GGUF into one HFLM (batch size 1, lm-eval's default) and times
`simple_evaluate` per task. Model loading is not timed, as in abq_eval_bench.

    python3 tools/bench/lm_eval_zero_shot.py [--limit 200] [--threads 1]
Prints one `peer …` line per task that tools/bench/python_peers.sh reads.
"""
import argparse
import json
import os
import re
import tempfile
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "../../../shared/data/eval"))
DEFAULT_GGUF = os.path.expanduser("~/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf")

PIQA_TASK = """task: abq_local_piqa
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {data}
validation_split: validation
output_type: multiple_choice
doc_to_text: "Question: {{{{goal}}}}\\nAnswer:"
doc_to_target: label
doc_to_choice: "{{{{[sol1, sol2]}}}}"
metric_list:
  - {{metric: acc, aggregation: mean, higher_is_better: true}}
  - {{metric: acc_norm, aggregation: mean, higher_is_better: true}}
"""

HELLASWAG_TASK = """task: abq_local_hellaswag
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {data}
validation_split: validation
output_type: multiple_choice
doc_to_text: "{{{{query}}}}"
doc_to_target: label
doc_to_choice: choices
metric_list:
  - {{metric: acc, aggregation: mean, higher_is_better: true}}
  - {{metric: acc_norm, aggregation: mean, higher_is_better: true}}
"""


def hellaswag_preprocess(text):
    """lm-eval hellaswag utils.preprocess."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


def write_piqa(folder, limit):
    with open(os.path.join(DATA, "piqa/valid.jsonl"), encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()][:limit]
    with open(os.path.join(DATA, "piqa/valid-labels.lst"), encoding="utf-8") as f:
        labels = [int(line) for line in f if line.strip()][:limit]
    path = os.path.join(folder, "piqa.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for doc, label in zip(docs, labels):
            f.write(json.dumps({"goal": doc["goal"], "sol1": doc["sol1"], "sol2": doc["sol2"], "label": label}) + "\n")
    return path


def write_hellaswag(folder, limit):
    """Six lines per document: 'activity label: context', gold index, four endings."""
    with open(os.path.join(DATA, "hellaswag/hellaswag_val_full.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    path = os.path.join(folder, "hellaswag.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for t in range(min(limit, len(lines) // 6)):
            block = lines[6 * t:6 * t + 6]
            f.write(json.dumps({"query": hellaswag_preprocess(block[0]),
                                "choices": [hellaswag_preprocess(e) for e in block[2:6]],
                                "label": int(block[1])}) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tasks", default="hellaswag,piqa")
    args = ap.parse_args()
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    folder, name = os.path.split(args.gguf)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=1, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "abq_local_piqa.yaml"), "w") as f:
            f.write(PIQA_TASK.format(data=write_piqa(tmp, args.limit)))
        with open(os.path.join(tmp, "abq_local_hellaswag.yaml"), "w") as f:
            f.write(HELLASWAG_TASK.format(data=write_hellaswag(tmp, args.limit)))
        manager = TaskManager(include_path=tmp)
        for task in args.tasks.split(","):
            full = "abq_local_" + task
            start = time.perf_counter()
            out = lm_eval.simple_evaluate(model=lm, tasks=[full], limit=args.limit, task_manager=manager,
                                          log_samples=False)
            seconds = time.perf_counter() - start
            r = out["results"][full]
            print(f"peer lm_eval-{task} {args.limit} examples, {args.threads} threads: {seconds:.2f} s, "
                  f"{args.limit / seconds:.2f} ex/s, acc {r['acc,none']:.3f} acc_norm {r['acc_norm,none']:.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
