#include "framework/pipeline/cpu_threads.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>
#include <torch/torch.h>

#include <algorithm>

#include "framework/core/error.h"
#include "framework/core/log.h"

namespace abq::pipeline {
namespace {

// OpenBLAS's own controls, looked up at run time: the BLAS under LibTorch may be another one (MKL
// in PyTorch's wheels), and then there is nothing to set here.
template <typename Fn>
Fn openblas_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

BlasThreading blas_threading() {
  auto get_parallel = openblas_symbol<int (*)()>("openblas_get_parallel");
  if (!get_parallel) return BlasThreading::unknown;
  switch (get_parallel()) {
    case 0: return BlasThreading::sequential;
    case 1: return BlasThreading::pthreads;
    case 2: return BlasThreading::openmp;
    default: return BlasThreading::unknown;
  }
}

void set_blas_threads(int n) {
  if (auto set = openblas_symbol<void (*)(int)>("openblas_set_num_threads")) set(n);
}

// glibc returns every freed block above its mmap threshold to the kernel, and trims the heap top
// above 2x that threshold, so each forward's large activations (logit slices, attention scores,
// MLP intermediates) come back as fresh zeroed pages: measured 5.8 s of 30 s in the kernel for an
// 8 x 512-token SmolLM2 perplexity. Blocks up to 32 MiB (glibc's ceiling) stay on the heap, and the
// heap is trimmed only above 1 GiB of free memory at its top.
void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

CpuThreads configure_cpu_threads(int requested) {
  const int cores = available_cores();
  if (requested < 0) throw ConfigError(cat("--threads must be >= 0 (0: all cores), got ", requested));
  if (requested > cores)
    throw ConfigError(cat("--threads ", requested, " exceeds the ", cores,
                          " cores this process may run on; more threads than cores only wait for each other"));
  CpuThreads out;
  out.threads = requested > 0 ? requested : cores;
  out.blas = blas_threading();
  keep_freed_memory();
  if (out.blas == BlasThreading::pthreads) {
    // Two pools would oversubscribe the cores; the BLAS does the heavy work, LibTorch's own loops
    // run on the calling thread.
    set_blas_threads(out.threads);
    torch::set_num_threads(1);
    out.description = cat(out.threads, " BLAS threads (OpenBLAS on pthreads; LibTorch's own loops on one)");
    if (out.threads > 1)
      log_warn("OpenBLAS is the pthread build: install libopenblas0-openmp (tools/setup.sh does) and rebuild, "
               "so that LibTorch and the BLAS share one thread pool");
    return out;
  }
  torch::set_num_threads(out.threads);
  set_blas_threads(out.threads);  // on OpenMP this is the same pool's count, set for both
  out.description = cat(out.threads, out.threads == 1 ? " thread" : " threads",
                        out.blas == BlasThreading::openmp ? " (OpenBLAS on LibTorch's OpenMP pool)" : "");
  return out;
}

}  // namespace abq::pipeline
