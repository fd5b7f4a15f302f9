// abq_cpu_gemm: checks the request exactly as abq_gemm does, brings the activations into the form
// the path's kernel reads (cpu_job.h), and runs the kernel over blocks of output channels on the
// OpenMP pool; fp16/bf16 outputs are rounded from the kernels' fp32 results (reference/half.h).
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_dispatch.h"
#include "kernels/cpu/cpu_job.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/launch/format_check.h"
#include "kernels/reference/half.h"
#include "kernels/tile/sliced_layout.h"

namespace abq::kernels::cpu {
namespace {

using launch::check_path_formats;
using launch::check_problem;

abq_status fail(const std::string& message, abq_status status = ABQ_ERR_INVALID) {
  launch::set_last_error("abq_cpu_gemm: " + message);
  return status;
}

float to_float(const void* data, int64_t i, abq_dtype d) {
  if (d == ABQ_DTYPE_F32) return static_cast<const float*>(data)[i];
  return reference::dtype_to_float(static_cast<const uint16_t*>(data)[i], d);
}

// Scratch kept per thread between calls (no allocation in steady state).
std::vector<uint64_t>& thread_scratch(size_t bytes) {
  thread_local std::vector<uint64_t> buf;
  if (buf.size() * 8 < bytes) buf.resize(bytes / 8 + 1);
  return buf;
}

std::string check_args(const abq_gemm_args* args, abq_path& path) {
  if (args == nullptr || args->w == nullptr || args->x == nullptr) return "args, args->w and args->x must be non-null";
  const abq_weights& w = *args->w;
  const abq_activations& x = *args->x;
  if (w.k != x.k) return "weights have K=" + std::to_string(w.k) + " but activations have K=" + std::to_string(x.k);
  std::string e = check_problem(x.m, w.n, w.k, w.fmt, x.fmt);
  if (!e.empty()) return e;
  if (w.layout != ABQ_PATH_BITPLANE && w.layout != ABQ_PATH_INT8_UNPACK && w.layout != ABQ_PATH_WEIGHT_ONLY)
    return "weights.layout must be bitplane, int8_unpack or weight_only, got " + std::to_string(int(w.layout));
  path = args->force_path;
  if (path == ABQ_PATH_AUTO)
    path = w.layout == ABQ_PATH_BITPLANE ? ABQ_PATH_BITPLANE : (x.fmt.bits == 16 ? ABQ_PATH_WEIGHT_ONLY : ABQ_PATH_INT8_UNPACK);
  e = check_path_formats(path, w.fmt, x.fmt);
  if (!e.empty()) return e;
  if ((path == ABQ_PATH_BITPLANE) != (w.layout == ABQ_PATH_BITPLANE))
    return std::string("path ") + abq_path_name(path) + " cannot read weights packed in the " +
           (w.layout == ABQ_PATH_BITPLANE ? "bitplane" : "sliced") + " layout; repack them or force a matching path";
  if (args->out_dtype != ABQ_DTYPE_F16 && args->out_dtype != ABQ_DTYPE_BF16 && args->out_dtype != ABQ_DTYPE_F32)
    return "out_dtype must be f16, bf16 or f32, got " + std::to_string(int(args->out_dtype));
  if (args->stream != nullptr) return "stream must be NULL on the CPU (calls are synchronous)";
  if (x.data == nullptr || w.codes == nullptr || w.scales == nullptr || args->y == nullptr)
    return "x.data, w.codes, w.scales and y must be non-null host pointers";
  if ((w.zeros == nullptr) != (w.fmt.is_signed != 0)) return "weight zero-points must be given iff the weights are unsigned";
  if (x.fmt.bits == 16 && (x.scales != nullptr || x.zeros != nullptr))
    return "fp16/bf16/fp32 activations (bits=16) take no scales or zero-points";
  if (x.fmt.bits <= 8 && x.scales == nullptr) return "quantized activations need per-token scales";
  if (x.fmt.bits <= 8 && (x.zeros == nullptr) != (x.fmt.is_signed != 0))
    return "activation zero-points must be given iff the activations are unsigned";
  return "";
}

GemmJob weights_job(const abq_gemm_args& a) {
  GemmJob j;
  const abq_weights& w = *a.w;
  j.w = static_cast<const uint32_t*>(w.codes);
  j.w_bits = w.fmt.bits;
  j.w_signed = w.fmt.is_signed != 0;
  j.n = w.n;
  j.k = w.k;
  j.groups = launch::group_count(w.k, w.fmt.group_size);
  j.group_len = launch::group_length(w.k, w.fmt.group_size);
  j.w_scales = w.scales;
  j.w_zeros = w.fmt.is_signed ? nullptr : w.zeros;
  j.m = a.x->m;
  j.x_bits = a.x->fmt.bits;
  j.x_signed = a.x->fmt.is_signed != 0;
  j.x_scales = a.x->scales;
  j.bias = a.bias;
  return j;
}

// Activation forms of the three paths (cpu_job.h), filled for token rows [r0, r1).
struct Prepared {
  std::vector<int8_t> bytes;
  std::vector<int32_t> sums, zeros, adjusted;
  std::vector<float> perm[3], fsums, widened, adjusted_f, zeros_f;
};

// Sx − L·zx per group (wrapping int32: only read when the kernel's int32 bound holds, and then exact).
void adjust(const GemmJob& j, int64_t m, Prepared& p) {
  for (int64_t g = 0; g < j.groups; ++g) {
    const int64_t a = int64_t(p.sums[m * j.groups + g]) - j.group_len * int64_t(p.zeros[m]);
    p.adjusted[m * j.groups + g] = static_cast<int32_t>(static_cast<uint32_t>(a));
    p.adjusted_f[m * j.groups + g] = static_cast<float>(a);
  }
  p.zeros_f[m] = static_cast<float>(p.zeros[m]);
}

void prepare_int8(const abq_activations& x, const GemmJob& j, int64_t r0, int64_t r1, Prepared& p) {
  const auto* in = static_cast<const uint8_t*>(x.data);
  const bool offset = !j.x_signed && j.x_bits == 8;  // u8 codes enter VPDPBUSD's s8 side as x − 128
  for (int64_t m = r0; m < r1; ++m) {
    for (int64_t g = 0; g < j.groups; ++g) {
      int32_t s = 0;
      for (int64_t k = g * j.group_len; k < (g + 1) * j.group_len; ++k) {
        const uint8_t b = offset ? static_cast<uint8_t>(in[m * j.k + k] ^ 0x80u) : in[m * j.k + k];
        p.bytes[m * j.k + k] = static_cast<int8_t>(b);
        s += static_cast<int8_t>(b);
      }
      p.sums[m * j.groups + g] = s;
    }
    p.zeros[m] = j.x_signed ? 0 : x.zeros[m] - (offset ? 128 : 0);
    adjust(j, m, p);
  }
}

void prepare_bitplane(const abq_activations& x, const GemmJob& j, int64_t r0, int64_t r1, Prepared& p) {
  const auto* planes = static_cast<const uint32_t*>(x.data);
  const int64_t words = j.k / 32, group_words = j.group_len / 32;
  for (int64_t m = r0; m < r1; ++m) {
    for (int64_t g = 0; g < j.groups; ++g) {
      int64_t s = 0;
      for (int b = 0; b < j.x_bits; ++b) {
        int64_t c = 0;
        for (int64_t t = g * group_words; t < (g + 1) * group_words; ++t)
          c += __builtin_popcount(planes[(b * j.m + m) * words + t]);
        s += (j.x_signed && b == j.x_bits - 1 ? -c : c) << b;
      }
      p.sums[m * j.groups + g] = static_cast<int32_t>(s);
    }
    p.zeros[m] = j.x_signed ? 0 : x.zeros[m];
    adjust(j, m, p);
  }
}

void prepare_weight_only(const abq_activations& x, abq_dtype dtype, const GemmJob& j, int lanes, int64_t r0,
                         int64_t r1, Prepared& p) {
  const tile::SliceSet set = tile::slices_for_bits(j.w_bits);
  for (int64_t m = r0; m < r1; ++m) {
    for (int64_t g = 0; g < j.groups; ++g) {
      double s = 0;
      for (int64_t k = g * j.group_len; k < (g + 1) * j.group_len; ++k) s += to_float(x.data, m * j.k + k, dtype);
      p.fsums[m * j.groups + g] = static_cast<float>(s);
    }
    for (int s = 0; s < set.count; ++s) {
      const int per_word = 32 / set.width[s];
      const int64_t words = j.k / per_word, stride = weight_only_x_stride(j.k, set.width[s], lanes);
      float* out = p.perm[s].data() + m * stride;
      for (int64_t v = 0; v * lanes < words; ++v)
        for (int e = 0; e < per_word; ++e)
          for (int lane = 0; lane < lanes; ++lane) {
            const int64_t word = v * lanes + lane;
            *out++ = word < words ? to_float(x.data, m * j.k + word * per_word + e, dtype) : 0.0f;
          }
    }
  }
}

void widen(const abq_activations& x, abq_dtype dtype, const GemmJob& j, int64_t r0, int64_t r1, Prepared& p) {
  if (dtype == ABQ_DTYPE_F32) return;
  for (int64_t i = r0 * j.k; i < r1 * j.k; ++i) p.widened[i] = to_float(x.data, i, dtype);
}

void store_block(const float* src, int64_t m, int64_t rows, int64_t ld_src, void* y, int64_t n, int64_t n0, abq_dtype d) {
  auto* out = static_cast<uint16_t*>(y);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t i = 0; i < rows; ++i) out[r * n + n0 + i] = reference::float_to_dtype(src[r * ld_src + i], d);
}

}  // namespace
}  // namespace abq::kernels::cpu

using namespace abq::kernels::cpu;

extern "C" abq_status abq_cpu_gemm(const abq_gemm_args* args) {
  abq_path path = ABQ_PATH_AUTO;
  std::string e = check_args(args, path);
  if (!e.empty()) return fail(e);
  const IsaKernels* isa = active_kernels(e);
  if (isa == nullptr) return fail(e, ABQ_ERR_UNSUPPORTED);

  GemmJob j = weights_job(*args);
  const abq_activations& x = *args->x;
  Prepared prep;
  const abq::kernels::tile::SliceSet set = abq::kernels::tile::slices_for_bits(j.w_bits);
  const bool wo_block = path == ABQ_PATH_WEIGHT_ONLY && j.m >= kWeightOnlyBlockTokens;
  if (wo_block) {
    if (args->out_dtype != ABQ_DTYPE_F32) prep.widened.resize(static_cast<size_t>(j.m * j.k));
  } else if (path == ABQ_PATH_WEIGHT_ONLY) {
    prep.fsums.resize(static_cast<size_t>(j.m * j.groups));
    for (int s = 0; s < set.count; ++s) {
      j.x_perm_stride[s] = weight_only_x_stride(j.k, set.width[s], isa->lanes);
      prep.perm[s].resize(static_cast<size_t>(j.m * j.x_perm_stride[s]));
    }
  } else {
    prep.sums.resize(static_cast<size_t>(j.m * j.groups));
    prep.zeros.resize(static_cast<size_t>(j.m));
    prep.adjusted.resize(static_cast<size_t>(j.m * j.groups));
    prep.adjusted_f.resize(static_cast<size_t>(j.m * j.groups));
    prep.zeros_f.resize(static_cast<size_t>(j.m));
    if (path == ABQ_PATH_INT8_UNPACK) prep.bytes.resize(static_cast<size_t>(j.m * j.k));
  }
  const int64_t lanes = isa->lanes;
  // Weight-only: rows in chunks of 8 lanes' worth; integer paths: one block of `lanes` channels.
  const int64_t block = path == ABQ_PATH_WEIGHT_ONLY && !wo_block ? 8 : lanes;
  const int64_t blocks = (j.n + block - 1) / block;
  // No more threads than blocks, and at least 2^18 multiply-adds each: below that a fork-join
  // costs more than it saves (and on a busy machine every wake-up waits for the scheduler).
  const double macs = double(j.m) * double(j.n) * double(j.k);
  const int threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({int64_t(call_threads()), blocks, static_cast<int64_t>(macs / double(1 << 18))})));
  const bool f32 = args->out_dtype == ABQ_DTYPE_F32;

  if (path == ABQ_PATH_INT8_UNPACK) j.x = prep.bytes.data();
  else if (path == ABQ_PATH_BITPLANE) j.x = x.data;
  j.x_sums = prep.sums.data();
  j.x_zeros = prep.zeros.data();
  if (path != ABQ_PATH_WEIGHT_ONLY) {
    // Zero-points beyond ±2^20 take the double fold (transpose_groups' int32 bound fails anyway).
    for (int64_t m = 0; m < j.m; ++m) {
      const int64_t z = x.fmt.is_signed ? 0 : int64_t(x.zeros[m]);
      j.x_zero_max = std::max<int64_t>(j.x_zero_max, z < 0 ? -z : z);
    }
    j.x_zero_max = std::min<int64_t>(j.x_zero_max + 128, int64_t(1) << 40);
    j.x_adjusted = prep.adjusted.data();
    j.x_adjusted_f = prep.adjusted_f.data();
    j.x_zeros_f = prep.zeros_f.data();
  }
  j.x_fsums = prep.fsums.data();
  if (wo_block)
    j.x_f32 = args->out_dtype == ABQ_DTYPE_F32 ? static_cast<const float*>(x.data) : prep.widened.data();
  for (int s = 0; s < set.count; ++s) j.x_perm[s] = prep.perm[s].data();
  const size_t kernel_bytes = path == ABQ_PATH_INT8_UNPACK ? isa->int8_scratch_bytes(j)
                              : path == ABQ_PATH_BITPLANE  ? isa->bitplane_scratch_bytes(j)
                              : wo_block                   ? isa->weight_only_scratch_bytes(j)
                                                           : 0;
  const size_t out_bytes = f32 ? 0 : static_cast<size_t>(j.m * block) * 4;

  // One fork-join with one barrier: every wait is a chance for OpenMP to spin on a busy machine.
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t r0 = j.m * tid / nt, r1 = j.m * (tid + 1) / nt;
    if (path == ABQ_PATH_INT8_UNPACK) prepare_int8(x, j, r0, r1, prep);
    else if (path == ABQ_PATH_BITPLANE) prepare_bitplane(x, j, r0, r1, prep);
    else if (wo_block) widen(x, args->out_dtype, j, r0, r1, prep);
    else prepare_weight_only(x, args->out_dtype, j, isa->lanes, r0, r1, prep);
    std::vector<uint64_t>& scratch = thread_scratch(kernel_bytes + out_bytes + 64);
    float* tmp = reinterpret_cast<float*>(reinterpret_cast<char*>(scratch.data()) + (kernel_bytes + 63) / 64 * 64);
#pragma omp barrier
#pragma omp for schedule(static) nowait
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t n0 = b * block, n1 = n0 + block < j.n ? n0 + block : j.n;
      float* out = f32 ? static_cast<float*>(args->y) + n0 : tmp;
      const int64_t ldo = f32 ? j.n : block;
      if (path == ABQ_PATH_INT8_UNPACK) isa->int8_block(j, n0, scratch.data(), out, ldo);
      else if (path == ABQ_PATH_BITPLANE) isa->bitplane_block(j, n0, scratch.data(), out, ldo);
      else if (wo_block) isa->weight_only_block(j, n0, scratch.data(), out, ldo);
      else isa->weight_only_rows(j, n0, n1, out, ldo);
      if (!f32) store_block(tmp, j.m, n1 - n0, block, args->y, j.n, n0, args->out_dtype);
    }
  }
  return ABQ_OK;
}
