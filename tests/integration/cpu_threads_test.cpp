// The start-up thread settings (framework/pipeline/cpu_threads.h): one OpenMP pool for LibTorch and
// OpenBLAS when the OpenMP build is installed, counts that follow --threads, and refusals.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <torch/torch.h>

#include <filesystem>

#include "framework/core/error.h"
#include "framework/pipeline/cpu_threads.h"

namespace abq::pipeline {
namespace {

int openblas_threads() {
  auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : -1;
}

TEST(CpuThreads, OneThreadMeansOneForLibTorchAndTheBlas) {
  const auto cpu = configure_cpu_threads(1);
  EXPECT_EQ(cpu.threads, 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  torch::mm(torch::randn({256, 256}), torch::randn({256, 256}));  // OpenMP OpenBLAS re-reads its count per call
  if (cpu.blas == BlasThreading::openmp || cpu.blas == BlasThreading::pthreads) {
    EXPECT_EQ(openblas_threads(), 1);
  }
}

TEST(CpuThreads, AllCoresByDefault) {
  const auto cpu = configure_cpu_threads(0);
  EXPECT_EQ(cpu.threads, available_cores());
  if (cpu.blas == BlasThreading::openmp) {
    EXPECT_EQ(torch::get_num_threads(), available_cores());
    // OpenBLAS's OpenMP build takes its count from the pool at each call.
    torch::mm(torch::randn({256, 256}), torch::randn({256, 256}));
    EXPECT_EQ(openblas_threads(), available_cores());
  }
  configure_cpu_threads(1);
}

// The build links the OpenMP OpenBLAS wherever Debian's package is installed (tools/setup.sh
// installs it); a binary that still loads the pthread build has two pools on the same cores.
TEST(CpuThreads, LoadsTheOpenMpOpenBlasWhereInstalled) {
  if (!std::filesystem::exists("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"))
    GTEST_SKIP() << "libopenblas0-openmp is not installed";
  EXPECT_EQ(configure_cpu_threads(1).blas, BlasThreading::openmp);
}

TEST(CpuThreads, MoreThreadsThanCoresIsAConfigError) {
  try {
    configure_cpu_threads(available_cores() + 1);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the"), std::string::npos) << e.what();
  }
  EXPECT_THROW(configure_cpu_threads(-1), ConfigError);
}

}  // namespace
}  // namespace abq::pipeline
