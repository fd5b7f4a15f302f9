#!/usr/bin/env bash
# Configures and builds abqlab into build/ (Ninja, ccache, Release). Extra args go to cmake.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs=$(nproc)
# Relative paths in ccache's hashes, so a fresh clone elsewhere reuses the cache of earlier builds.
# The sloppiness settings let ccache cache translation units that use the precompiled torch header.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >build-configure.log 2>&1 || { cat build-configure.log; exit 1; }
grep -E '^-- +\[|^-- abqlab' build-configure.log || true
ninja -C build -j"$jobs"
