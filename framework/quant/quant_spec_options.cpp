#include "framework/quant/quant_spec_options.h"

#include "framework/core/error.h"

namespace abq::quant {

using config::RuleProblem;
using config::Schema;

namespace {

std::vector<std::pair<std::string, Granularity>> granularity_table() {
  std::vector<std::pair<std::string, Granularity>> out;
  for (const auto& name : granularity_names()) out.emplace_back(name, granularity_from_string(name));
  return out;
}

void group_rule(const QuantSpec& s, std::vector<RuleProblem>& problems) {
  if (s.enabled() && s.granularity == Granularity::per_group && s.group_size <= 0)
    problems.push_back({{"group_size"}, cat("granularity per_group needs group_size > 0; got group_size ", s.group_size),
                        "set group_size (e.g. 128) or choose another granularity"});
}

void symmetric_rule(const QuantSpec& s, std::vector<RuleProblem>& problems) {
  if (s.enabled() && s.symmetric && s.bits < 2)
    problems.push_back({{"symmetric"},
                        cat("symmetric quantization needs at least 2 bits (its grid is +-(2^(n-1) - 1) steps, "
                            "which is empty at 1 bit); got bits ", s.bits),
                        "use symmetric: false (asymmetric 1-bit; 3 levels with bit_balance)"});
}

}  // namespace

const config::OptionSet<QuantSpec>& quant_spec_options() {
  static const auto set =
      config::OptionSet<QuantSpec>()
          .field("bits", &QuantSpec::bits, Schema::integer().range(1, 16).doc("bit width; 16 = not quantized"))
          .field("symmetric", &QuantSpec::symmetric,
                 Schema::boolean().doc("symmetric grid without zero-point (else asymmetric min/max)"))
          .enumeration("granularity", &QuantSpec::granularity, granularity_table(), "which elements share a scale")
          .field("group_size", &QuantSpec::group_size,
                 Schema::integer().range(0, 1 << 20).doc("per_group: elements per group along the input dim"))
          .field("dynamic", &QuantSpec::dynamic,
                 Schema::boolean().doc("activations: ranges per forward (true) or calibrated once (false)"))
          .field("clip_ratio", &QuantSpec::clip_ratio,
                 Schema::number().range(0.0, 1.0).exclusive_min().doc("shrinks the range before quantizing"))
          .field("bit_balance", &QuantSpec::bit_balance,
                 Schema::boolean().doc("ABQ-LLM W2*: 2^n+1 levels for n <= 2 (asymmetric)"))
          .rule("per_group needs group_size > 0", group_rule)
          .rule("symmetric needs at least 2 bits", symmetric_rule);
  return set;
}

void validate(const QuantSpec& spec) {
  if (spec.bits >= 16) return;  // not quantized: no other key applies
  std::string message;
  for (const auto& p : quant_spec_options().check(spec)) message += (message.empty() ? "" : "; ") + p.message;
  if (!message.empty()) throw Error(message);
}

QuantSpec default_spec(Granularity granularity) {
  QuantSpec s;
  s.granularity = granularity;
  return s;
}

}  // namespace abq::quant
