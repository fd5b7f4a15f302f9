// How many CPU threads a process computes with, set once at start-up for LibTorch and the BLAS
// under it. Why it needs care: LibTorch runs its own loops on an OpenMP pool, and OpenBLAS either
// joins that pool (its OpenMP build) or starts a second pool of one thread per core (its pthread
// build, Debian's default libblas.so.3). Two pools on the same cores fight: on a 2-core machine
// `--threads 2` ran 1.5x slower than one thread. The build links every abq binary against the
// OpenMP OpenBLAS where it is installed (cmake/AbqDependencies.cmake); this file sets the counts.
#pragma once

#include <string>

namespace abq::pipeline {

// What the BLAS under LibTorch threads with, as OpenBLAS reports it.
enum class BlasThreading { unknown, sequential, pthreads, openmp };

struct CpuThreads {
  int threads = 1;          // the count the process computes with
  BlasThreading blas = BlasThreading::unknown;
  std::string description;  // "2 threads (OpenBLAS on LibTorch's OpenMP pool)"
};

// The cores this process may run on (its affinity mask), at least 1.
int available_cores();

// Sets LibTorch's and the BLAS's thread counts for `requested` threads (0: every available core)
// and keeps freed heap memory for reuse (see cpu_threads.cpp). A request above the available cores
// is a ConfigError naming both counts. Call before any computation; later calls re-set the counts.
CpuThreads configure_cpu_threads(int requested);

}  // namespace abq::pipeline
