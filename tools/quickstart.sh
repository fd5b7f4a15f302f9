#!/usr/bin/env bash
# Sets up, builds and runs experiments/quickstart.yaml; the table is printed and the runs are
# stored in results/quickstart.h5.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"
"$root/tools/build.sh"
cd "$root"
exec build/abq run experiments/quickstart.yaml "$@"
