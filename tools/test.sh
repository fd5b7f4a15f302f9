#!/usr/bin/env bash
# Sets up, builds and runs every test (GPU-labelled tests skip cleanly without a GPU).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"
"$root/tools/build.sh"
cd "$root"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
