#!/usr/bin/env bash
# Prints the bin/ folder of a llama.cpp build (llama-perplexity, llama-bench, llama-quantize), made on
# first use from the llama-cpp-python sdist on PyPI into $LLAMACPP_DIR (default /tmp/abq-peers),
# outside this tree; none of it is committed. Build output goes to $LLAMACPP_DIR/build.log.
set -euo pipefail
peers="${LLAMACPP_DIR:-/tmp/abq-peers}"
targets=(llama-perplexity llama-bench llama-quantize)
src="$(find "$peers" -maxdepth 3 -path '*vendor/llama.cpp' -type d 2>/dev/null | head -1)"
if [ -z "$src" ]; then
  mkdir -p "$peers"
  # Only llama-cpp-python itself from source: with :all: pip would build its build tools from source too.
  (cd "$peers" && python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python llama-cpp-python -d . &&
    tar xzf llama_cpp_python-*.tar.gz)
  src="$(find "$peers" -maxdepth 3 -path '*vendor/llama.cpp' -type d | head -1)"
fi
missing=0
for t in "${targets[@]}"; do [ -x "$src/build/bin/$t" ] || missing=1; done
if [ "$missing" = 1 ]; then
  # The CPU features are named instead of -march=native: KVM guests may report AMX in CPUID and then
  # fault on its first tile instruction (tilezero), which ggml's native build uses.
  cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_AVX=ON \
    -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON $(grep -qw avx512f /proc/cpuinfo &&
    echo -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX512_VBMI=ON) -DGGML_AMX_TILE=OFF \
    -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF \
    >"$peers/build.log" 2>&1
  ninja -C "$src/build" "${targets[@]}" >>"$peers/build.log" 2>&1
fi
echo "$src/build/bin"
