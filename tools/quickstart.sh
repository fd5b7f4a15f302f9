#!/usr/bin/env bash
# Sets up, builds and runs experiments/quickstart.yaml; the table is printed and the runs are
# stored in results/quickstart.h5. Then `abq report` writes results/quickstart.md (the table and
# the perplexity-vs-bits plot) and results/quickstart-report/ (LaTeX, CSV, HTML, PNG and PDF plots).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"
"$root/tools/build.sh"
cd "$root"
build/abq run experiments/quickstart.yaml "$@"
build/abq report results/quickstart.h5 --spec configs/reports/quickstart.yaml --out results/quickstart-report
# results/quickstart.md sits beside the report folder: its image links point into it.
sed 's|](plots/|](quickstart-report/plots/|g' results/quickstart-report/report.md >results/quickstart.md
echo "report: results/quickstart.md, results/quickstart-report/index.html"
