// QuantSpec: how one tensor is quantized — bits, levels, granularity, symmetry, range mode.
// Pure C++ (no LibTorch) so config/, store/ and allocations can carry it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abq::quant {

/// Which elements share one scale / zero-point.
///  per_tensor:  the whole tensor
///  per_channel: each row of a weight [out, in] (one range per output channel);
///               for activations (static ranges), each channel of the last dim
///  per_group:   consecutive groups of `group_size` elements along the last dim
///  per_token:   each vector along the last dim (one range per token [, per head])
///  per_head:    each head of a [B, H, T, D] tensor, over all its tokens
enum class Granularity { per_tensor, per_channel, per_group, per_token, per_head };

struct QuantSpec {
  int bits = 16;                 // 1..16; 16 means "not quantized"
  bool symmetric = false;        // symmetric: no zero-point, grid centered on 0
  Granularity granularity = Granularity::per_channel;
  int64_t group_size = 0;        // per_group only
  bool dynamic = true;           // activations: ranges per forward (true) or calibrated once (false)
  double clip_ratio = 1.0;       // range shrink factor in (0, 1]
  bool bit_balance = false;      // ABQ-LLM W2*: 2^n + 1 levels for n <= 2 (asymmetric only)

  bool enabled() const { return bits < 16; }
  /// Number of representable levels: 2^bits, or 2^bits + 1 with bit balance at n <= 2.
  int64_t levels() const {
    int64_t base = int64_t(1) << bits;
    return (bit_balance && bits <= 2 && !symmetric) ? base + 1 : base;
  }
};

const char* to_string(Granularity g);
/// Parses a granularity name; throws abq::Error listing the allowed names.
Granularity granularity_from_string(const std::string& name);
std::vector<std::string> granularity_names();

/// Short human label: "w4g128", "a8t" ... used in tables and logs.
/// Without a role prefix: "4g128", "8t". Suffixes: per_channel none, per_group "g<G>", per_token "t",
/// per_head "h", per_tensor "pt"; then "s" symmetric, "*" bit balance (levels 2^n + 1), "c<r>"
/// clip_ratio < 1, "-static" static ranges. Disabled specs (bits >= 16) give "16".
std::string describe(const QuantSpec& spec);
/// The same label behind a role prefix: describe(spec, "w") == "w4g128", describe(spec, "a") == "a8t".
std::string describe(const QuantSpec& spec, const std::string& role);

/// Checks a spec built in code against its declaration (quant_spec_options.h: ranges, per_group
/// needs group_size > 0, symmetric needs 2 bits); bits >= 16 is "not quantized" and passes.
/// Throws abq::Error naming the field, the allowed range and the value.
void validate(const QuantSpec& spec);

}  // namespace abq::quant
