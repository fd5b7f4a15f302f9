// The sites an allocation plans for, with their shapes and roles, and the glob patterns that
// address them (allocation overrides, tie groups).
//
// Patterns are fnmatch(3) globs without FNM_PATHNAME, so `*` also matches dots. A pattern is tried
// against the full site name (`layers.3.mlp.down_proj.weight`) and against its module
// (`layers.3.mlp.down_proj`), so `layers.*.mlp.down_proj` addresses both the weight and the input.
#pragma once

#include <string>
#include <vector>

#include "framework/methods/allocation.h"
#include "framework/model/llama_config.h"

namespace abq::methods {

/// Every quantizable site of a model with `config`'s dims, layer by layer in model/'s table order.
/// `config` must be resolved (head_dim and num_kv_heads filled: model::resolve_config).
std::vector<SiteInfo> allocation_sites(const model::LlamaConfig& config);

bool site_pattern_matches(const std::string& pattern, const SiteInfo& site);

}  // namespace abq::methods
