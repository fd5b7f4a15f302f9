// The QuantSpec <-> kernel format adapter (see kernel_format.h for the table it implements).
#include "framework/packed/kernel_format.h"

#include "framework/core/error.h"
#include "framework/quant/storage_bits.h"
#include "kernels/launch/format_check.h"

namespace abq::packed {
namespace {

using quant::Granularity;

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// Group size of the kernel format: 0 (one group per output channel) or 64 / 128; -1 when the
// granularity has no kernel form.
int64_t kernel_group(const quant::QuantSpec& spec) {
  switch (spec.granularity) {
    case Granularity::per_group: return spec.group_size == 64 || spec.group_size == 128 ? spec.group_size : -1;
    case Granularity::per_channel:
    case Granularity::per_token:   // of a weight [out, in]: one range per row, as per_channel
    case Granularity::per_tensor: return 0;
    case Granularity::per_head: return -1;
  }
  return -1;
}

std::string format_problem(const quant::QuantSpec& spec) {
  if (!spec.enabled()) return "bits 16: the weight is not quantized, there is nothing to pack";
  if (quant::code_bits(spec) > 8)
    return cat("bits ", spec.bits, ": the kernels store 1..8-bit codes");
  if (spec.symmetric && spec.bits < 2) return "symmetric 1-bit has no grid";
  if (kernel_group(spec) < 0) {
    if (spec.granularity == Granularity::per_group)
      return cat("group size ", spec.group_size,
                 " is not one the kernels run (64, 128, or one group per output channel: per_channel)");
    return cat("granularity ", quant::to_string(spec.granularity), " has no kernel form for a weight");
  }
  return "";
}

}  // namespace

int64_t padded_k(int64_t k) { return (k + kKStep - 1) / kKStep * kKStep; }

abq_weight_format weight_format(const quant::QuantSpec& spec) {
  const std::string problem = format_problem(spec);
  if (!problem.empty()) throw Error(cat("weight spec ", quant::describe(spec, "w"), " cannot run packed: ", problem));
  abq_weight_format f{};
  f.bits = spec.symmetric ? spec.bits : quant::code_bits(spec);
  f.levels = spec.symmetric ? (1 << spec.bits) : static_cast<int>(spec.levels());
  f.is_signed = spec.symmetric ? 1 : 0;
  f.group_size = static_cast<int>(kernel_group(spec));
  return f;
}

std::string weight_packing_problem(const quant::QuantSpec& spec, int64_t n, int64_t k) {
  std::string problem = format_problem(spec);
  if (problem.empty() && (n < 1 || k < 1)) problem = cat("shape [", n, ", ", k, "] is empty");
  if (problem.empty()) {
    // The weight-side checks of the kernels (formats, K, groups); the accumulator bound depends
    // on the activation bits and is checked per call by the kernels themselves.
    const abq_act_format unquantized{16, 0, 0};
    problem = kernels::launch::check_problem(1, n, padded_k(k), weight_format(spec), unquantized);
  }
  return problem.empty() ? "" : cat("K ", k, ", group size ", spec.granularity == Granularity::per_group ? cat(spec.group_size) : std::string("none"),
                                    ": ", problem);
}

quant::QuantSpec weight_spec(const abq_weight_format& f) {
  const std::string problem = kernels::launch::check_weight_format(f);
  if (!problem.empty()) throw Error(cat("kernel weight format ", describe(f), ": ", problem));
  quant::QuantSpec s;
  const int levels = kernels::launch::effective_levels(f.bits, f.levels);
  s.symmetric = f.is_signed != 0;
  s.bits = f.bits;
  if (!s.symmetric && levels != (1 << f.bits)) {
    // 2^n + 1 levels stored in n + 1 bits: ABQ-LLM's bit balance (W2* = bits 3, levels 5).
    if (!(is_power_of_two(levels - 1) && levels - 1 == (1 << (f.bits - 1)) && f.bits - 1 <= 2))
      throw Error(cat("kernel weight format ", describe(f), " has no QuantSpec: ", levels,
                      " levels are neither 2^bits nor 2^n + 1 (bit balance, n <= 2)"));
    s.bits = f.bits - 1;
    s.bit_balance = true;
  }
  s.granularity = f.group_size == 0 ? Granularity::per_channel : Granularity::per_group;
  s.group_size = f.group_size;
  return s;
}

std::string activation_fusion_problem(const quant::QuantSpec& spec) {
  if (!spec.enabled()) return "";
  if (!spec.dynamic) return "static ranges (dynamic: false); the kernels' quantizer takes each token's own range";
  if (spec.granularity != Granularity::per_token)
    return cat("granularity ", quant::to_string(spec.granularity), "; the kernels quantize activations per token");
  if (spec.clip_ratio != 1.0) return cat("clip_ratio ", spec.clip_ratio, "; the kernels' quantizer does not clip");
  const int bits = spec.symmetric ? spec.bits : quant::code_bits(spec);
  if (bits < 2 || bits > 8) return cat("bits ", spec.bits, "; the kernels quantize activations to 2..8 bits");
  return "";
}

abq_act_format activation_format(const quant::QuantSpec& spec) {
  if (!spec.enabled()) return abq_act_format{16, 0, 0};
  const std::string problem = activation_fusion_problem(spec);
  if (!problem.empty())
    throw Error(cat("activation spec ", quant::describe(spec, "a"), " cannot be fused into the kernel call: ", problem));
  abq_act_format f{};
  f.bits = spec.symmetric ? spec.bits : quant::code_bits(spec);
  f.levels = spec.symmetric ? (1 << spec.bits) : static_cast<int>(spec.levels());
  f.is_signed = spec.symmetric ? 1 : 0;
  return f;
}

quant::QuantSpec activation_spec(const abq_act_format& f) {
  quant::QuantSpec s;
  s.granularity = Granularity::per_token;
  if (f.bits == 16) return s;  // bits 16: not quantized
  const std::string problem = kernels::launch::check_act_format(f);
  if (!problem.empty()) throw Error(cat("kernel activation format ", describe(f), ": ", problem));
  const int levels = kernels::launch::effective_levels(f.bits, f.levels);
  s.symmetric = f.is_signed != 0;
  s.bits = f.bits;
  if (!s.symmetric && levels != (1 << f.bits)) {
    if (!(levels - 1 == (1 << (f.bits - 1)) && f.bits - 1 <= 2))
      throw Error(cat("kernel activation format ", describe(f), " has no QuantSpec: ", levels,
                      " levels are neither 2^bits nor 2^n + 1 (bit balance, n <= 2)"));
    s.bits = f.bits - 1;
    s.bit_balance = true;
  }
  return s;
}

std::string describe(const abq_weight_format& f) {
  return cat("bits=", f.bits, " levels=", kernels::launch::effective_levels(f.bits, f.levels), " ",
             f.is_signed ? "signed" : "unsigned", " group=", f.group_size == 0 ? std::string("channel") : cat(f.group_size));
}

std::string describe(const abq_act_format& f) {
  if (f.bits == 16) return "bits=16 (fp)";
  return cat("bits=", f.bits, " levels=", kernels::launch::effective_levels(f.bits, f.levels), " ",
             f.is_signed ? "signed" : "unsigned", " per-token");
}

}  // namespace abq::packed
