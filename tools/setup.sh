#!/usr/bin/env bash
# Installs everything abqlab needs on Debian 12 / Ubuntu 22.04+ (idempotent: a second run only
# checks). Run as root or with sudo available. Also fetches the default model (see fetch_model.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3 python3-pip unzip
  libtorch-dev libopenblas0-pthread       # OpenBLAS: Debian's torch otherwise calls the reference BLAS (~40x slower)
  libopenblas0-openmp                     # the build abq links: one OpenMP thread pool with LibTorch (pipeline/cpu_threads.h)
  libyaml-cpp-dev libhdf5-dev libeigen3-dev libboost-program-options-dev libgtest-dev
  libsentencepiece-dev libpcre2-dev nlohmann-json3-dev
  libglpk-dev                             # the integer program of mixed-precision allocation (methods/allocations)
  slurmctld slurmd slurm-client munge     # the `slurm` tests' one-node cluster (tests/slurm, tools/slurm_test_cluster.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libblas.so.3 must resolve to OpenBLAS, not the reference implementation.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) ;;
  *) echo "setup: warning: libblas.so.3 -> ${blas:-none}; expected OpenBLAS (update-alternatives --config libblas.so.3-x86_64-linux-gnu)" >&2 ;;
esac

# abq report's plots (experiments/report/plots.py): matplotlib and h5py from PyPI.
if ! python3 -c "import matplotlib, h5py" 2>/dev/null; then
  echo "setup: installing matplotlib and h5py (pip)"
  python3 -m pip install --quiet matplotlib h5py 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages matplotlib h5py
fi

if [ -x "$here/fetch_model.sh" ]; then
  "$here/fetch_model.sh"
fi
echo "setup: ok"
