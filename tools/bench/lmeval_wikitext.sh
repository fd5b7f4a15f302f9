#!/usr/bin/env bash
# abq's `lmeval.wikitext` protocol against lm-evaluation-harness itself, per page and overall:
# the 62 pages of the local official wiki.test.raw, SmolLM2-135M from the same GGUF (its Q4_1
# weights dequantized to fp32 by both sides), rolling log-likelihood with max length M.
#
#   bash tools/bench/lmeval_wikitext.sh [MAX_LENGTH]        (default 2048; ~20 min per side on 1 core)
#
# lm-eval runs twice: with SmolLM2's own pre-tokenizer (Digits then ByteLevel, what the GGUF's
# tokenizer.ggml.pre = "smollm" names and abq and llama.cpp use), and with the tokenizer
# transformers builds from the GGUF (which drops the Digits step) on the pages where the two
# tokenizers disagree. Peers live in a venv outside the tree ($ABQ_PEERS_VENV, default
# /tmp/abq-peers/venv; made here from PyPI on first use); outputs go to $ABQ_PEERS_OUT (default
# /tmp/abq-peers/lmeval-wikitext-M).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
max_length="${1:-2048}"
venv="${ABQ_PEERS_VENV:-/tmp/abq-peers/venv}"
out="${ABQ_PEERS_OUT:-/tmp/abq-peers/lmeval-wikitext-$max_length}"
threads="${ABQ_THREADS:-1}"
mkdir -p "$out"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import torch, transformers, gguf, lm_eval, h5py" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch transformers accelerate gguf lm_eval h5py
fi
py="$venv/bin/python"
ninja -C "$root/build" abq >/dev/null
cd "$root"
store="$out/abq.h5"
rm -f "$store"
build/abq run tools/bench/lmeval_wikitext.yaml --threads "$threads" \
  --results "$store" --set "eval.0.max_length=$max_length" > "$out/abq.log" 2>&1
"$py" tools/bench/lmeval_wikitext.py --max-length "$max_length" --threads "$threads" --tokenizer smollm \
  --out "$out/lm_eval_smollm.json" 2>"$out/lm_eval_smollm.log" | grep '^peer'
"$py" tools/bench/lmeval_wikitext_compare.py --store "$store" --peer "$out/lm_eval_smollm.json" \
  --changed-pages-out "$out/changed_pages.txt"
pages="$(cat "$out/changed_pages.txt")"
if [[ -n "$pages" ]]; then
  "$py" tools/bench/lmeval_wikitext.py --max-length "$max_length" --threads "$threads" --tokenizer gguf \
    --docs "$pages" --out "$out/lm_eval_gguf.json" 2>"$out/lm_eval_gguf.log" | grep '^peer'
  "$py" tools/bench/lmeval_wikitext_compare.py --store "$store" --peer "$out/lm_eval_gguf.json"
fi
