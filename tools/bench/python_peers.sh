#!/usr/bin/env bash
# abq against the Python peers at equal thread counts, back to back in one run, with the ratios:
#   perplexity (8 x 512)        abq_eval_bench          vs  a plain transformers loop
#   HellaSwag / PIQA (200 docs) abq_eval_bench          vs  lm-evaluation-harness (--model hf, batch 1)
#   GPTQ, one block             abq_calib_bench gptq    vs  the GPTQ repository's loop in PyTorch
#   ABQ-LLM W4A4, one step      abq_calib_bench abq_llm vs  the PyTorch fidelity reference loop
# on SmolLM2-135M (its GGUF's Q4_1 weights dequantized to fp32 by both sides) and its block shape.
#
#   bash tools/bench/python_peers.sh [THREADS]        (default 1; run on a quiet machine)
# The peers live in a virtual environment outside the tree ($ABQ_PEERS_VENV, default
# /tmp/abq-peers/venv), created here on first use from PyPI: torch, transformers, accelerate,
# gguf, lm_eval. The full log is written to $ABQ_PEERS_LOG (default /tmp/abq-peers/peers.log).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
threads="${1:-1}"
venv="${ABQ_PEERS_VENV:-/tmp/abq-peers/venv}"
log="${ABQ_PEERS_LOG:-/tmp/abq-peers/peers.log}"
mkdir -p "$(dirname "$log")"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import torch, transformers, gguf, lm_eval" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch transformers accelerate gguf lm_eval
fi
ninja -C "$root/build" abq_eval_bench abq_calib_bench >/dev/null
py="$venv/bin/python"
block=(--hidden 576 --ffn 1536 --heads 9 --kv-heads 3 --tokens 512 --windows 8)  # SmolLM2-135M
cd "$root"
{
  echo "== $(date -u +%FT%TZ), $threads thread(s), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  build/tools/bench/abq_eval_bench tools/bench/eval_speed_peers.yaml --threads "$threads"
  "$py" tools/bench/hf_perplexity_loop.py --threads "$threads" 2>&1 | grep '^peer'
  "$py" tools/bench/lm_eval_zero_shot.py --threads "$threads" --limit 200 2>&1 | grep '^peer'
  build/tools/bench/abq_calib_bench --method gptq "${block[@]}" --threads "$threads"
  "$py" tools/bench/torch_calib_block.py --method gptq "${block[@]}" --threads "$threads"
  build/tools/bench/abq_calib_bench --method abq_llm "${block[@]}" --epochs 1 --threads "$threads"
  "$py" tools/bench/torch_calib_block.py --method abq_llm "${block[@]}" --epochs 1 --threads "$threads"
} 2>&1 | tee "$log"
python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def num(pattern):
    m = re.search(pattern, text, re.M)
    if not m:
        sys.exit(f"python_peers: no line matching {pattern!r} in {sys.argv[1]}")
    return float(m.group(1))
rows = [
    ("perplexity tokens/s", num(r"^perplexity .* ([\d.]+) tokens/s"), num(r"^peer transformers-perplexity .* ([\d.]+) tokens/s"), True),
    ("hellaswag ex/s", num(r"^zero_shot\s+hellaswag .*reuse on\s+[\d.]+ s\s+([\d.]+) ex/s"), num(r"^peer lm_eval-hellaswag .* ([\d.]+) ex/s"), True),
    ("piqa ex/s", num(r"^zero_shot\s+piqa .*reuse on\s+[\d.]+ s\s+([\d.]+) ex/s"), num(r"^peer lm_eval-piqa .* ([\d.]+) ex/s"), True),
    ("gptq s/block", num(r"^gptq .*: ([\d.]+) s \(best"), num(r"^peer torch-gptq .*: ([\d.]+) s per block"), False),
    ("abq_llm s/step", num(r"^per optimizer step .*: ([\d.]+) s"), num(r"^peer torch-abq_llm .* ([\d.]+) s per optimizer step"), False),
]
print(f"{'':22} {'abq':>10} {'peer':>10} {'abq speed-up':>13}")
for name, ours, theirs, rate in rows:
    print(f"{name:22} {ours:10.3f} {theirs:10.3f} {(ours / theirs if rate else theirs / ours):12.2f}x")
PY
