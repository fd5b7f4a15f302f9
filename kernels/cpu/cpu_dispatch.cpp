// ISA detection and forcing, thread count (see cpu_dispatch.h and cpu_kernels.h).
#include "kernels/cpu/cpu_dispatch.h"

#include <omp.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "kernels/launch/format_check.h"

namespace abq::kernels::cpu {
namespace {

// ABQ_CPU_ISA_AUTO until forced; an environment value is parsed once at the first call.
std::atomic<int> g_forced{-1};
std::atomic<int> g_threads{0};
std::once_flag g_env_once;
std::string g_env_error;

abq_cpu_isa parse_isa(const char* name, bool& ok) {
  ok = true;
  for (abq_cpu_isa isa : {ABQ_CPU_ISA_AUTO, ABQ_CPU_ISA_SCALAR, ABQ_CPU_ISA_AVX2, ABQ_CPU_ISA_AVXVNNI, ABQ_CPU_ISA_AVX512})
    if (std::strcmp(name, abq_cpu_isa_name(isa)) == 0) return isa;
  ok = false;
  return ABQ_CPU_ISA_AUTO;
}

void read_environment() {
  const char* env = std::getenv("ABQ_CPU_ISA");
  if (env == nullptr || *env == '\0') return;
  bool ok = false;
  const abq_cpu_isa isa = parse_isa(env, ok);
  if (!ok) {
    g_env_error = std::string("ABQ_CPU_ISA=") + env + " is not one of auto, scalar, avx2, avxvnni, avx512";
  } else if (!isa_supported(isa)) {
    g_env_error = std::string("ABQ_CPU_ISA=") + env + " is not supported by this CPU (best: " +
                  abq_cpu_isa_name(abq_cpu_best_isa()) + ")";
  }
  int expected = -1;
  g_forced.compare_exchange_strong(expected, ok ? static_cast<int>(isa) : static_cast<int>(ABQ_CPU_ISA_AUTO));
}

#if defined(__x86_64__) || defined(__i386__)
// AVX-VNNI is CPUID leaf 7 subleaf 1, EAX bit 4 (read directly: not every compiler's
// __builtin_cpu_supports knows it); its YMM state is the one AVX2 already needs.
bool cpu_has_avxvnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0 && ((a >> 4) & 1u) != 0;
}
#endif

const IsaKernels& kernels_of(abq_cpu_isa isa) {
  switch (isa) {
    case ABQ_CPU_ISA_AVX512: return avx512_kernels();
    case ABQ_CPU_ISA_AVXVNNI: return avxvnni_kernels();
    case ABQ_CPU_ISA_AVX2: return avx2_kernels();
    default: return scalar_kernels();
  }
}

}  // namespace

bool isa_supported(abq_cpu_isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt");
  switch (isa) {
    case ABQ_CPU_ISA_AUTO:
    case ABQ_CPU_ISA_SCALAR: return true;
    case ABQ_CPU_ISA_AVX2: return avx2;
    case ABQ_CPU_ISA_AVXVNNI: return avx2 && cpu_has_avxvnni();
    case ABQ_CPU_ISA_AVX512:
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vpopcntdq");
  }
  return false;
#else
  return isa == ABQ_CPU_ISA_AUTO || isa == ABQ_CPU_ISA_SCALAR;
#endif
}

const IsaKernels* active_kernels(std::string& error) {
  std::call_once(g_env_once, read_environment);
  if (!g_env_error.empty() && g_forced.load() == static_cast<int>(ABQ_CPU_ISA_AUTO)) {
    error = g_env_error;
    return nullptr;
  }
  return &kernels_of(abq_cpu_active_isa());
}

int call_threads() {
  const int t = g_threads.load();
  return t > 0 ? t : omp_get_max_threads();
}

}  // namespace abq::kernels::cpu

using namespace abq::kernels::cpu;

extern "C" abq_cpu_isa abq_cpu_best_isa(void) {
  for (abq_cpu_isa isa : {ABQ_CPU_ISA_AVX512, ABQ_CPU_ISA_AVXVNNI, ABQ_CPU_ISA_AVX2})
    if (isa_supported(isa)) return isa;
  return ABQ_CPU_ISA_SCALAR;
}

extern "C" abq_cpu_isa abq_cpu_active_isa(void) {
  std::call_once(g_env_once, read_environment);
  const int forced = g_forced.load();
  return forced > 0 ? static_cast<abq_cpu_isa>(forced) : abq_cpu_best_isa();
}

extern "C" abq_status abq_cpu_force_isa(abq_cpu_isa isa) {
  std::call_once(g_env_once, read_environment);
  if (isa < ABQ_CPU_ISA_AUTO || isa > ABQ_CPU_ISA_AVX512) {
    abq::kernels::launch::set_last_error("abq_cpu_force_isa: unknown ISA " + std::to_string(static_cast<int>(isa)));
    return ABQ_ERR_INVALID;
  }
  if (!isa_supported(isa)) {
    abq::kernels::launch::set_last_error(std::string("abq_cpu_force_isa: this CPU does not support ") +
                                         abq_cpu_isa_name(isa) + " (best: " + abq_cpu_isa_name(abq_cpu_best_isa()) + ")");
    return ABQ_ERR_UNSUPPORTED;
  }
  g_env_error.clear();
  g_forced.store(static_cast<int>(isa));
  return ABQ_OK;
}

extern "C" const char* abq_cpu_isa_name(abq_cpu_isa isa) {
  switch (isa) {
    case ABQ_CPU_ISA_AUTO: return "auto";
    case ABQ_CPU_ISA_SCALAR: return "scalar";
    case ABQ_CPU_ISA_AVX2: return "avx2";
    case ABQ_CPU_ISA_AVXVNNI: return "avxvnni";
    case ABQ_CPU_ISA_AVX512: return "avx512";
  }
  return "unknown";
}

extern "C" int abq_cpu_set_threads(int n) {
  g_threads.store(n > 0 ? n : 0);
  return call_threads();
}

extern "C" int abq_cpu_threads(void) { return call_threads(); }
