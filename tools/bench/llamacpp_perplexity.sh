#!/usr/bin/env bash
# abq's `llamacpp` perplexity protocol against llama-perplexity itself, on one GGUF and one text:
# both print PPL and its "+/-". llama.cpp is built from the llama-cpp-python sdist on PyPI into
# $LLAMACPP_DIR (default /tmp/abq-peers), outside this tree; none of it is committed.
#   bash tools/bench/llamacpp_perplexity.sh [MODEL.gguf] [TEXT] [N_CTX] [CHUNKS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$HOME/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
text="${2:-$root/experiments/data/sotu/heldout.txt}"
n_ctx="${3:-512}"
chunks="${4:-8}"
threads="${THREADS:-1}"
bin="$(bash "$root/tools/bench/llamacpp_build.sh")/llama-perplexity"
echo "llama-perplexity ($bin), $threads thread(s):"
"$bin" -m "$model" -f "$text" -c "$n_ctx" --chunks "$chunks" -t "$threads" -b "$n_ctx" 2>&1 | grep -E "Final estimate|tokenizing|add_bos|calculating perplexity over" || true

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/exp.yaml" <<YAML
name: llamacpp_protocol
model: {source: gguf, path: $model, dtype: float32, device: cpu}
tokenizer: {type: auto}
results: $tmp/r.h5
eval:
  - {type: perplexity, protocol: llamacpp, data: $text, seqlen: $n_ctx, max_windows: $chunks, logit_metrics: false}
YAML
echo "abq eval, protocol llamacpp:"
"$root/build/abq" eval "$tmp/exp.yaml" --threads "$threads" >"$tmp/eval.log" 2>&1 || { cat "$tmp/eval.log"; exit 1; }
python3 -c 'import h5py' 2>/dev/null || python3 -m pip install --quiet h5py
python3 - "$tmp/r.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    for run in f["runs"].values():
        for m in run["metrics"][:]:
            if m["metric"].decode() == "ppl":
                print(f"Final estimate: PPL = {m['value']:.4f} +/- {m['stderr']:.5f}  ({m['protocol'].decode()})")
PY
