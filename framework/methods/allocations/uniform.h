// Uniform bit allocation: every site gets the experiment's default spec for its kind (weights,
// linear-input activations, attention q/k/v), then per-site overrides by glob apply in order.
//
// Patterns are fnmatch(3) globs without FNM_PATHNAME, so `*` also matches dots. A pattern is
// tried against the full site name (`layers.3.mlp.down_proj.weight`) and against its module
// (`layers.3.mlp.down_proj`), so `layers.*.mlp.down_proj` addresses both the weight and the input.
// An override may set `weights` (weight sites), `activations` (linear-input sites), `kv`
// (attention q/k/v sites) or `skip` (leave every matched site unquantized). Later overrides win.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "framework/quant/quant_spec.h"

namespace abq::methods {

/// What a site is, for choosing among the default specs.
enum class SiteRole { weight, activation, kv };

struct SiteOverride {
  std::string pattern;
  std::optional<quant::QuantSpec> weights;
  std::optional<quant::QuantSpec> activations;
  std::optional<quant::QuantSpec> kv;
  bool skip = false;
};

struct UniformOptions {
  std::vector<SiteOverride> overrides;
};

struct DefaultSpecs {
  quant::QuantSpec weights;
  quant::QuantSpec activations;
  quant::QuantSpec kv;
};

struct SiteInfo {
  std::string name;    // full site name, e.g. layers.3.mlp.down_proj.weight
  std::string module;  // the name without its role suffix, e.g. layers.3.mlp.down_proj
  SiteRole role;
};

/// Maps every site to a spec (bits 16 = not quantized). An override pattern that matches no site
/// is an abq::Error naming the pattern: a typo must not silently quantize everything.
std::map<std::string, quant::QuantSpec> allocate_uniform(const std::vector<SiteInfo>& sites,
                                                         const DefaultSpecs& defaults,
                                                         const UniformOptions& options);

bool site_pattern_matches(const std::string& pattern, const SiteInfo& site);

}  // namespace abq::methods
