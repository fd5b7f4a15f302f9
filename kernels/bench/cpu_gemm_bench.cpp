// CPU kernel benchmark: the machine's read bandwidth (a STREAM-like read of a 1 GiB buffer in this
// process), then for each shape (N×K) and format the CPU backend's time per call against OpenBLAS
// sgemv (M = 1) and sgemm (M = 512) on the same shape, at each thread count:
//   M = 1:   bytes read (weights + scales/zero-points + activations + output) / time in GB/s and as
//            % of the bandwidth floor (bytes / measured read bandwidth); weight copies are rotated
//            past 1 GiB so every call reads from DRAM, not from the last-level cache;
//   M > 1:   integer (or fp32) operations 2·M·N·K / time, and the speedup over sgemm.
// K that is not a multiple of 128 (SmolLM2's 576) is padded to the next multiple with zero codes,
// as a packed model does; the padded K is printed. Codes are uniformly random packed words (timing
// only: exactness is the unit tests' job, tests/unit/kernels/cpu_kernels_test.cpp).
//
//   abq_cpu_gemm_bench [--threads 1,2] [--shapes 4096x4096,576x576] [--m 1,512] [--reps 5] [--isa avx512]
//                      [--clock wall|cpu] [--tune FILE]
// --tune FILE times bitplane against int8_unpack for the narrow formats and writes the table that
// abq_cpu_choose_path reads (ABQ_CPU_TUNE=FILE, kernels/cpu/cpu_tuning.h) instead of the report.
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/launch/format_check.h"

extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" char* openblas_get_config(void) __attribute__((weak));

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// --clock cpu: process CPU seconds divided by the thread count instead of wall seconds, for a
// machine shared with other jobs (time spent descheduled is not counted; spinning waits are).
bool g_cpu_clock = false;
int g_threads = 1;
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    if (comma > pos) out.push_back(std::atoll(s.substr(pos, comma - pos).c_str()));
    pos = comma + 1;
  }
  return out;
}

struct Shape {
  int64_t n, k;
  const char* what;
};

std::vector<Shape> parse_shapes(const std::string& s) {
  std::vector<Shape> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    const size_t x = item.find('x');
    if (x != std::string::npos) out.push_back({std::atoll(item.c_str()), std::atoll(item.c_str() + x + 1), ""});
    pos = comma + 1;
  }
  return out;
}

// Sum of 64-bit words with independent accumulators (no carried dependency, so the loads are the
// bottleneck): 256-bit loads where the CPU has AVX2, else eight scalar sums.
// Four streams at once (as a GEMV reads several rows), so the read is not limited by one stream's
// prefetcher stopping at each 4 KiB page.
__attribute__((target("avx2"))) uint64_t sum_words_avx2(const uint64_t* p, size_t lo, size_t hi) {
  const size_t quarter = (hi - lo) / 4 / 4 * 4;
  const uint64_t *p0 = p + lo, *p1 = p0 + quarter, *p2 = p1 + quarter, *p3 = p2 + quarter;
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < quarter; i += 4) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0 + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p1 + i)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p2 + i)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p3 + i)));
  }
  alignas(32) uint64_t t[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  return t[0] + t[1] + t[2] + t[3];
}

uint64_t sum_words(const uint64_t* p, size_t lo, size_t hi) {
  if (__builtin_cpu_supports("avx2")) return sum_words_avx2(p, lo, hi);
  const size_t quarter = (hi - lo) / 4 / 2 * 2;
  const uint64_t *p0 = p + lo, *p1 = p0 + quarter, *p2 = p1 + quarter, *p3 = p2 + quarter;
  uint64_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < quarter; i += 2) {
    a[0] += p0[i]; a[1] += p0[i + 1]; a[2] += p1[i]; a[3] += p1[i + 1];
    a[4] += p2[i]; a[5] += p2[i + 1]; a[6] += p3[i]; a[7] += p3[i + 1];
  }
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

// Read bandwidth of a 1 GiB buffer split over `threads`, best of five passes, in GB/s.
double read_bandwidth(int threads) {
  const size_t words = (size_t(1) << 30) / 8;
  static std::vector<uint64_t> buf;
  if (buf.empty()) {
    buf.resize(words);
    for (size_t i = 0; i < words; ++i) buf[i] = i * 0x9E3779B97F4A7C15ull;
  }
  double best = 0;
  volatile uint64_t sink = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    uint64_t total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const size_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
      total += sum_words(buf.data(), words / 16 * tid / nt * 16, words / 16 * (tid + 1) / nt * 16);
    }
    const double s = g_cpu_clock ? (cpu_seconds() - c0) / threads : seconds_since(t0);
    sink = sink + total;
    best = std::max(best, double(words) * 8 / s / 1e9);
  }
  return best;
}

struct Format {
  const char* name;
  abq_weight_format w;
  abq_act_format x;
  abq_path path;
};

// Times `call(copy)` over rotating copies: at least `reps` calls and 0.2 s; returns the median.
template <typename F>
double time_call(int copies, int reps, F&& call) {
  call(0);
  std::vector<double> t;
  const auto start = Clock::now();
  for (int i = 0; i < reps || seconds_since(start) < 0.2; ++i) {
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    call((i + 1) % copies);
    t.push_back(g_cpu_clock ? (cpu_seconds() - c0) / g_threads : seconds_since(t0));
    if (t.size() > 2000) break;
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Buffers {
  std::vector<std::vector<uint32_t>> codes;
  std::vector<std::vector<float>> scales;
  std::vector<std::vector<int32_t>> zeros;
};

void fill_random(std::vector<uint32_t>& v, std::mt19937_64& rng) {
  for (auto& w : v) w = static_cast<uint32_t>(rng());
}

// Median seconds of one abq_cpu_gemm call of format f on an N×K (K a multiple of 128) problem
// with M tokens; M = 1 rotates weight copies past 1 GiB. Also returns the weight bytes.
double time_format(const Format& f, int64_t n, int64_t k, int64_t m, int reps, std::mt19937_64& rng, double& w_bytes) {
  const int64_t groups = abq::kernels::launch::group_count(k, f.w.group_size);
  const size_t words = size_t(n * k * f.w.bits / 32);
  w_bytes = double(words) * 4 + double(n) * groups * (f.w.is_signed ? 4 : 8);
  const int copies = m == 1 ? int(std::min<int64_t>(1024, std::max<int64_t>(1, int64_t((1ull << 30) / w_bytes) + 1))) : 1;
  Buffers b;
  b.codes.resize(copies, std::vector<uint32_t>(words));
  b.scales.resize(copies, std::vector<float>(size_t(n * groups), 0.01f));
  b.zeros.resize(copies, std::vector<int32_t>(f.w.is_signed ? 0 : size_t(n * groups), 1));
  fill_random(b.codes[0], rng);
  for (int c = 1; c < copies; ++c) b.codes[c] = b.codes[0];
  std::vector<float> x16(f.x.bits == 16 ? size_t(m * k) : 0, 0.5f);
  std::vector<uint32_t> xq(f.x.bits == 16 ? 0 : (f.path == ABQ_PATH_BITPLANE ? size_t(f.x.bits * m * k / 32) : size_t(m * k / 4)));
  fill_random(xq, rng);
  if (f.path == ABQ_PATH_INT8_UNPACK && f.x.bits < 8)
    for (auto& w : xq) w &= 0x01010101u * ((1u << f.x.bits) - 1u);
  std::vector<float> xs(size_t(m), 0.02f), y(size_t(m * n));
  std::vector<int32_t> xz(size_t(m), 3);
  return time_call(copies, reps, [&](int c) {
    abq_weights w{f.path == ABQ_PATH_BITPLANE ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK, f.w, int(n), int(k),
                  b.codes[c].data(), b.scales[c].data(), f.w.is_signed ? nullptr : b.zeros[c].data()};
    abq_activations x{f.x, int(m), int(k), f.x.bits == 16 ? static_cast<const void*>(x16.data()) : xq.data(),
                      f.x.bits == 16 ? nullptr : xs.data(), f.x.bits == 16 || f.x.is_signed ? nullptr : xz.data()};
    abq_gemm_args args{&w, &x, nullptr, y.data(), ABQ_DTYPE_F32, f.path, nullptr};
    if (abq_cpu_gemm(&args) != ABQ_OK) {
      std::fprintf(stderr, "%s: %s\n", f.name, abq_last_error());
      std::exit(1);
    }
  });
}

// --tune FILE: both integer paths on every shape and M for the formats where the choice is
// close, as the table cpu/cpu_tuning.h describes (per-channel unsigned weights and activations).
int write_tuning(const std::string& path, const std::vector<Shape>& shapes, const std::vector<int64_t>& ms, int threads,
                 int reps, std::mt19937_64& rng) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "--tune %s: cannot open for writing\n", path.c_str());
    return 2;
  }
  abq_cpu_set_threads(threads);
  g_threads = threads;
  std::fprintf(out, "# abq cpu tuning v1: %s, %d threads\n# w_bits x_bits M N K bitplane_us int8_unpack_us\n",
               abq_cpu_isa_name(abq_cpu_active_isa()), threads);
  const int pairs[][2] = {{1, 2}, {1, 3}, {1, 4}, {2, 2}, {2, 3}, {3, 2}, {2, 4}, {1, 8}};
  for (const Shape& s : shapes)
    for (int64_t m : ms)
      for (const auto& pq : pairs) {
        const int64_t k = (s.k + 127) / 128 * 128;
        double t[2], bytes = 0;
        for (int p = 0; p < 2; ++p) {
          const Format f{"tune", {pq[0], 0, 0, 0}, {pq[1], 0, 0}, p == 0 ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK};
          t[p] = time_format(f, s.n, k, m, reps, rng, bytes);
        }
        std::fprintf(out, "%d %d %lld %lld %lld %.1f %.1f\n", pq[0], pq[1], (long long)m, (long long)s.n, (long long)k,
                     t[0] * 1e6, t[1] * 1e6);
        std::printf("w%da%d M=%lld %lldx%lld: bitplane %.1f us, int8_unpack %.1f us\n", pq[0], pq[1], (long long)m,
                    (long long)s.n, (long long)k, t[0] * 1e6, t[1] * 1e6);
      }
  std::fclose(out);
  std::printf("wrote %s (load it with ABQ_CPU_TUNE=%s)\n", path.c_str(), path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string threads_arg = std::to_string(abq_cpu_threads()), shapes_arg, m_arg = "1,512", isa_arg;
  int reps = 5;
  std::string tune_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads_arg = argv[i + 1];
    else if (a == "--shapes") shapes_arg = argv[i + 1];
    else if (a == "--m") m_arg = argv[i + 1];
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--isa") isa_arg = argv[i + 1];
    else if (a == "--clock") g_cpu_clock = std::string(argv[i + 1]) == "cpu";
    else if (a == "--tune") tune_path = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s (see the header of kernels/bench/cpu_gemm_bench.cpp)\n", a.c_str());
      return 2;
    }
  }
  if (!isa_arg.empty()) {
    abq_cpu_isa isa = ABQ_CPU_ISA_AUTO;
    for (abq_cpu_isa c : {ABQ_CPU_ISA_SCALAR, ABQ_CPU_ISA_AVX2, ABQ_CPU_ISA_AVXVNNI, ABQ_CPU_ISA_AVX512})
      if (isa_arg == abq_cpu_isa_name(c)) isa = c;
    if (abq_cpu_force_isa(isa) != ABQ_OK) {
      std::fprintf(stderr, "--isa %s: %s\n", isa_arg.c_str(), abq_last_error());
      return 2;
    }
  }
  std::vector<Shape> shapes = {{4096, 4096, "LLaMA-7B q/k/v/o"}, {11008, 4096, "LLaMA-7B gate/up"},
                               {4096, 11008, "LLaMA-7B down"},   {576, 576, "SmolLM2 q/o"},
                               {192, 576, "SmolLM2 k/v"},        {1536, 576, "SmolLM2 gate/up"},
                               {576, 1536, "SmolLM2 down"}};
  if (!shapes_arg.empty()) shapes = parse_shapes(shapes_arg);
  const std::vector<int64_t> thread_counts = parse_list(threads_arg), ms = parse_list(m_arg);

  const std::vector<Format> decode = {
      {"w4a16 g128", {4, 0, 0, 128}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
      {"w4a16 chan", {4, 0, 0, 0}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
      {"w3a16 g128", {3, 0, 0, 128}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
      {"w2a16 g128", {2, 0, 0, 128}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
      {"w2*a16 g128", {3, 5, 0, 128}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
      {"w2a16 chan", {2, 0, 0, 0}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
      {"w8a16 g128", {8, 0, 0, 128}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
      {"w8a8 chan", {8, 0, 1, 0}, {8, 0, 0}, ABQ_PATH_INT8_UNPACK},
      {"w4a8 g128", {4, 0, 0, 128}, {8, 0, 0}, ABQ_PATH_INT8_UNPACK},
  };
  const std::vector<Format> prefill = {
      {"w8a8 chan", {8, 0, 1, 0}, {8, 0, 0}, ABQ_PATH_INT8_UNPACK},
      {"w4a8 g128", {4, 0, 0, 128}, {8, 0, 0}, ABQ_PATH_INT8_UNPACK},
      {"w4a4 g128", {4, 0, 0, 128}, {4, 0, 0}, ABQ_PATH_INT8_UNPACK},
      {"w2a8 g128", {2, 0, 0, 128}, {8, 0, 0}, ABQ_PATH_INT8_UNPACK},
      {"w1a2 chan", {1, 0, 0, 0}, {2, 0, 0}, ABQ_PATH_INT8_UNPACK},
      {"w1a2 chan", {1, 0, 0, 0}, {2, 0, 0}, ABQ_PATH_BITPLANE},
      {"w2a2 chan", {2, 0, 0, 0}, {2, 0, 0}, ABQ_PATH_INT8_UNPACK},
      {"w2a2 chan", {2, 0, 0, 0}, {2, 0, 0}, ABQ_PATH_BITPLANE},
      {"w4a16 g128", {4, 0, 0, 128}, {16, 0, 0}, ABQ_PATH_WEIGHT_ONLY},
  };

  std::printf("abq_cpu_gemm_bench: ISA %s, OpenBLAS %s, %s clock\n", abq_cpu_isa_name(abq_cpu_active_isa()),
              openblas_get_config != nullptr ? openblas_get_config() : "(config unknown)",
              g_cpu_clock ? "process-CPU / threads" : "wall");
  std::mt19937_64 rng(1);
  if (!tune_path.empty()) return write_tuning(tune_path, shapes, ms, int(thread_counts.front()), reps, rng);
  for (int64_t threads : thread_counts) {
    abq_cpu_set_threads(int(threads));
    g_threads = int(threads);
    omp_set_num_threads(int(threads));
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(int(threads));
    const double bw = read_bandwidth(int(threads));
    std::printf("\nthreads %lld: read bandwidth %.1f GB/s (1 GiB, best of 5)\n", (long long)threads, bw);
    std::printf("%-12s %-6s %4s %-12s %-12s %10s %8s %7s %9s %8s\n", "shape NxK", "K_pad", "M", "format", "path",
                "time_us", "GB/s", "%floor", "GOPS", "x_fp32");
    for (const Shape& s : shapes) {
      const int64_t n = s.n, k = (s.k + 127) / 128 * 128;
      for (int64_t m : ms) {
        // fp32 baseline, same shape (unpadded K), rotated like the packed weights at M = 1.
        const size_t wf_elems = size_t(n * s.k);
        const int fp_copies = m == 1 ? int(std::min<int64_t>(1024, std::max<int64_t>(1, (int64_t(1) << 30) / int64_t(wf_elems * 4) + 1))) : 1;
        std::vector<std::vector<float>> wf(fp_copies, std::vector<float>(wf_elems));
        for (auto& v : wf[0]) v = float(int64_t(rng() % 2001) - 1000) * 1e-3f;
        for (int c = 1; c < fp_copies; ++c) wf[c] = wf[0];
        std::vector<float> xf(size_t(m * k)), yf(size_t(m * n));
        for (auto& v : xf) v = float(int64_t(rng() % 2001) - 1000) * 1e-3f;
        const double t_fp = time_call(fp_copies, reps, [&](int c) {
          if (m == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, int(n), int(s.k), 1.0f, wf[c].data(), int(s.k), xf.data(), 1, 0.0f,
                        yf.data(), 1);
          else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(s.k), 1.0f, xf.data(), int(s.k),
                        wf[c].data(), int(s.k), 0.0f, yf.data(), int(n));
        });
        const double fp_bytes = double(n) * s.k * 4 + double(m) * s.k * 4 + double(m) * n * 4;
        const double ops_fp = 2.0 * m * n * s.k;
        std::printf("%-12s %-6lld %4lld %-12s %-12s %10.1f %8.1f %7.1f %9.1f %8.2f\n",
                    (std::to_string(n) + "x" + std::to_string(s.k)).c_str(), (long long)s.k, (long long)m, "fp32",
                    m == 1 ? "sgemv" : "sgemm", t_fp * 1e6, fp_bytes / t_fp / 1e9, 100.0 * fp_bytes / bw / 1e9 / t_fp,
                    ops_fp / t_fp / 1e9, 1.0);
        wf.clear();

        for (const Format& f : m == 1 ? decode : prefill) {
          double w_bytes = 0;
          const double t = time_format(f, n, k, m, reps, rng, w_bytes);
          const double bytes = w_bytes + double(m) * k * (f.x.bits == 16 ? 4 : f.x.bits / 8.0) + double(m) * n * 4;
          const double ops = 2.0 * m * n * k;
          std::printf("%-12s %-6lld %4lld %-12s %-12s %10.1f %8.1f %7.1f %9.1f %8.2f\n",
                      (std::to_string(n) + "x" + std::to_string(s.k)).c_str(), (long long)k, (long long)m, f.name,
                      abq_path_name(f.path), t * 1e6, bytes / t / 1e9, 100.0 * bytes / bw / 1e9 / t, ops / t / 1e9,
                      t_fp / t);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
