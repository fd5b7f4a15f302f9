// Precondition checks and the thread-local error of the C API (see format_check.h).
#include "kernels/launch/format_check.h"

#include <sstream>
#include <string>

namespace abq::kernels::launch {
namespace {

thread_local std::string g_last_error;

template <typename... Parts>
std::string msg(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace

int effective_levels(int bits, int levels) { return levels == 0 ? (1 << bits) : levels; }

int64_t group_count(int64_t k, int group_size) { return group_size == 0 ? 1 : k / group_size; }

int64_t group_length(int64_t k, int group_size) { return group_size == 0 ? k : group_size; }

std::string check_weight_format(const abq_weight_format& f) {
  if (f.bits < 1 || f.bits > 8)
    return msg("weight bits must be in 1..8 (W2* is bits=3, levels=5), got ", f.bits);
  const int levels = effective_levels(f.bits, f.levels);
  if (levels < 2 || levels > (1 << f.bits))
    return msg("weight levels must be in 2..2^bits = ", 1 << f.bits, " for ", f.bits, "-bit storage, got ", levels);
  if (f.is_signed && (f.bits < 2 || levels != (1 << f.bits)))
    return msg("signed weights need bits >= 2 and levels = 2^bits; got bits=", f.bits, " levels=", levels,
               " (use unsigned codes with zero-points for W2* and 1-bit)");
  if (f.group_size != 0 && f.group_size != 64 && f.group_size != 128)
    return msg("weight group_size must be 0 (per output channel), 64 or 128, got ", f.group_size);
  return "";
}

std::string check_act_format(const abq_act_format& f) {
  if (f.bits == 16) return "";
  if (f.bits < 2 || f.bits > 8)
    return msg("activation bits must be in 2..8, or 16 for fp16/bf16 activations, got ", f.bits);
  const int levels = effective_levels(f.bits, f.levels);
  if (levels < 2 || levels > (1 << f.bits))
    return msg("activation levels must be in 2..2^bits = ", 1 << f.bits, ", got ", levels);
  if (f.is_signed && levels != (1 << f.bits))
    return msg("signed activations need levels = 2^bits = ", 1 << f.bits, ", got ", levels);
  return "";
}

std::string check_problem(int64_t m, int64_t n, int64_t k, const abq_weight_format& w, const abq_act_format& x) {
  std::string e = check_weight_format(w);
  if (e.empty()) e = check_act_format(x);
  if (!e.empty()) return e;
  if (m < 1 || n < 1) return msg("M and N must be >= 1, got M=", m, " N=", n);
  if (k < 128 || k % 128 != 0)
    return msg("K must be a positive multiple of 128 (one b1 MMA step), got K=", k);
  if (w.group_size != 0 && k % w.group_size != 0)
    return msg("K must be a multiple of the weight group size ", w.group_size, ", got K=", k);
  if (x.bits <= 8) {
    // The kernels accumulate the raw code products of one group in int32 (codes as unsigned
    // offsets ≤ 2^bits − 1); the zero-point fold itself is done in int64.
    const int64_t per_product = ((int64_t(1) << w.bits) - 1) * ((int64_t(1) << x.bits) - 1);
    const int64_t g = group_length(k, w.group_size);
    if (g * per_product >= (int64_t(1) << 31))
      return msg("group length ", g, " is too long for exact int32 accumulation of ", w.bits, "x", x.bits,
                 "-bit products; use group_size 64/128 or K <= ", ((int64_t(1) << 31) - 1) / per_product);
  }
  return "";
}

std::string check_path_formats(abq_path path, const abq_weight_format& w, const abq_act_format& x) {
  switch (path) {
    case ABQ_PATH_BITPLANE:
    case ABQ_PATH_INT8_UNPACK:
      if (x.bits > 8)
        return msg("path ", abq_path_name(path), " needs quantized activations (bits 2..8), got bits=", x.bits,
                   "; use weight_only for fp16/bf16 activations");
      return "";
    case ABQ_PATH_WEIGHT_ONLY:
      if (x.bits != 16)
        return msg("path weight_only needs fp16/bf16 activations (bits=16), got bits=", x.bits);
      return "";
    default:
      return msg("path must be bitplane, int8_unpack or weight_only, got ", static_cast<int>(path));
  }
}

std::string check_gemm_params(const gemm::GemmParams& p, abq_path path) {
  const abq_weight_format wf{p.w_bits, 0, p.w_signed, p.group_len == p.k ? 0 : p.group_len};
  const abq_act_format xf{p.x_bits, 0, p.x_signed};
  std::string e = check_problem(p.m, p.n, p.k, wf, xf);
  if (e.empty()) e = check_path_formats(path, wf, xf);
  if (!e.empty()) return e;
  if (p.groups * static_cast<int64_t>(p.group_len) != p.k)
    return "groups x group length must equal K, got " + std::to_string(p.groups) + " x " + std::to_string(p.group_len);
  if (p.x == nullptr || p.w == nullptr || p.w_scales == nullptr || p.y == nullptr)
    return "x, w, w_scales and y must be non-null device pointers";
  if ((p.w_zeros == nullptr) != p.w_signed) return "weight zero-points must be given iff the weights are unsigned";
  if (p.x_bits <= 8) {
    if (p.x_scales == nullptr) return "quantized activations need per-token scales";
    if (p.x_zeros != nullptr && p.x_signed) return "signed activations take no zero-points";
  }
  if (path == ABQ_PATH_INT8_UNPACK && p.x_signed) {
    // Signed activations enter the MMA as offset bytes x + 128 ≤ 255, a wider range than 2^q − 1.
    const int64_t per_product = ((int64_t(1) << p.w_bits) - 1) * 255;
    if (int64_t(p.group_len) * per_product >= (int64_t(1) << 31))
      return "group length " + std::to_string(p.group_len) + " is too long for exact int32 accumulation on the " +
             "int8 path with signed activations; use group_size 64/128 or K <= " +
             std::to_string(((int64_t(1) << 31) - 1) / per_product);
  }
  if (path == ABQ_PATH_WEIGHT_ONLY && reinterpret_cast<uintptr_t>(p.x) % 16 != 0)
    return "fp16/bf16 activations must be 16-byte aligned (read as 8-element vectors)";
  if (reinterpret_cast<uintptr_t>(p.x) % 4 != 0 || reinterpret_cast<uintptr_t>(p.w) % 4 != 0)
    return "x and w must be 4-byte aligned";
  return "";
}

void set_last_error(const std::string& message) { g_last_error = message; }

}  // namespace abq::kernels::launch

extern "C" const char* abq_last_error(void) { return abq::kernels::launch::g_last_error.c_str(); }

extern "C" const char* abq_path_name(abq_path path) {
  switch (path) {
    case ABQ_PATH_AUTO: return "auto";
    case ABQ_PATH_BITPLANE: return "bitplane";
    case ABQ_PATH_INT8_UNPACK: return "int8_unpack";
    case ABQ_PATH_WEIGHT_ONLY: return "weight_only";
  }
  return "unknown";
}
