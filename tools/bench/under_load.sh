#!/usr/bin/env bash
# Two abq processes sharing the machine: the perplexity benchmark run alone on one thread, then two
# copies at once (one thread each, then the default of every core each), and each copy's rate as a
# fraction of the lone run. Prints the load average before starting: run it on a quiet machine.
#   bash tools/bench/under_load.sh [EXPERIMENT.yaml]   (default: the perplexity entry of eval_speed.yaml)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bench="$root/build/tools/bench/abq_eval_bench"
[ -x "$bench" ] || { echo "under_load: build abq_eval_bench first (ninja -C build abq_eval_bench)" >&2; exit 1; }
yaml="${1:-}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ -z "$yaml" ]; then
  yaml="$root/tools/bench/eval_speed_perplexity.yaml"
fi
rate() { grep -o '[0-9.]* tokens/s' "$1" | head -1 | cut -d' ' -f1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
"$bench" "$yaml" --threads 1 >"$tmp/alone.txt" 2>&1
alone=$(rate "$tmp/alone.txt")
echo "alone, 1 thread: $alone tokens/s"
for threads in 1 0; do
  "$bench" "$yaml" --threads "$threads" >"$tmp/a.txt" 2>&1 & a=$!
  "$bench" "$yaml" --threads "$threads" >"$tmp/b.txt" 2>&1 & b=$!
  wait "$a" "$b"
  ra=$(rate "$tmp/a.txt"); rb=$(rate "$tmp/b.txt")
  label=$([ "$threads" = 0 ] && echo "all cores each" || echo "1 thread each")
  python3 -c "import sys; a,b,s=map(float,sys.argv[1:4]); print(f'two processes, $label: {a:.1f} and {b:.1f} tokens/s = {a/s:.2f}x and {b/s:.2f}x of the lone run')" "$ra" "$rb" "$alone"
done
