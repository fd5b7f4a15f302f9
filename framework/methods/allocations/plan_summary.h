// What a site plan amounts to: average weight bits (with and without scale / zero-point storage,
// quant/storage_bits.h) and the run's setting label, which says when the plan is mixed.
//
// Label: W<w>A<a>KV<kv>[g<G>][*] (evaluation-protocols.md §8.5) when every site of a role has one
// spec; a role whose sites differ prints its mean bits with one decimal (weights: parameter-
// weighted code bits, fp sites counting 16; activations and kv: the mean over sites) and the label
// ends in " mixed", e.g. "W3.2A8KV16 mixed". g<G> and * follow a uniform weight spec only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/methods/allocation.h"
#include "framework/model/llama_config.h"

namespace abq::methods {

struct PlanSummary {
  double weight_bits = 16;              // parameter-weighted mean code bits of the weight sites
  double weight_bits_with_scales = 16;  // the same with scales and zero-points counted
  int64_t weight_parameters = 0;        // elements of all weight sites
  bool mixed = false;                   // some role's sites do not share one spec
};

PlanSummary summarize_plan(const SitePlan& plan, const std::vector<SiteInfo>& sites);

/// Whole-model storage in bytes: the weight sites as the plan stores them (scales and zero-points
/// counted, quant/storage_bits.h) plus every other parameter (embeddings, lm_head unless tied,
/// norms, biases) in float16, the convention of the papers' model-size columns.
double model_storage_bytes(const PlanSummary& summary, const model::LlamaConfig& config);

std::string setting_label(const SitePlan& plan, const std::vector<SiteInfo>& sites);

/// Whether two specs put a tensor on the same grid (bits, levels, granularity, group, symmetry,
/// range mode, clip); a plan is uniform over a role when all its sites agree by this.
bool same_grid(const quant::QuantSpec& a, const quant::QuantSpec& b);

}  // namespace abq::methods
