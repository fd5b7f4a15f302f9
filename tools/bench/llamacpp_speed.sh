#!/usr/bin/env bash
# abq's packed kernels beside llama.cpp on one GGUF at one thread count, back to back:
#   llama-bench -p 512 -n 128 on Q4_0, Q4_1 and Q8_0 files made from the model by llama-quantize
#   (--allow-requantize: the default model is itself Q4_1), then `abq bench` of
#   experiments/bench_vs_llamacpp_smollm2.yaml (prefill M = 512 and one decode token, packed and
#   simulated). llama.cpp is built outside this tree (llamacpp_build.sh).
#   bash tools/bench/llamacpp_speed.sh [THREADS] [MODEL.gguf]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
threads="${1:-1}"
model="${2:-$HOME/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
peers="${LLAMACPP_DIR:-/tmp/abq-peers}"
bin="$(bash "$root/tools/bench/llamacpp_build.sh")"
mkdir -p "$peers/models"
files=()
for type in Q4_0 Q4_1 Q8_0; do
  out="$peers/models/$(basename "${model%.gguf}").$type.gguf"
  [ -s "$out" ] || "$bin/llama-quantize" --allow-requantize "$model" "$out" "$type" >"$out.log" 2>&1 ||
    { cat "$out.log"; exit 1; }
  files+=("$out")
done
echo "== llama-bench, $threads thread(s)"
for f in "${files[@]}"; do
  "$bin/llama-bench" -m "$f" -p 512 -n 128 -t "$threads" -r 3 -o md 2>/dev/null | grep -E '^\| (model|-|[a-z])' |
    sed "s|^|$(basename "$f" .gguf | sed 's/.*\.//')  |"
done
echo "== abq bench, $threads thread(s)"
"$root/build/abq" bench "$root/experiments/bench_vs_llamacpp_smollm2.yaml" --m 512,1 --threads "$threads" \
  --set "model.path=$model"
