// Candidates of a mixed-precision allocation: what a site group may be quantized with. Each is a
// partial QuantSpec laid over the experiment's default weight spec (quant.weights), optionally with
// a partial spec for the group's linear inputs laid over quant.activations; e.g.
//   candidates: [{bits: 2, bit_balance: true}, {bits: 3}, {bits: 4, group_size: 64, granularity: per_group},
//                {bits: 4, activations: {bits: 8}}]
// Its cost is exact: storage bits of the members' codes, scales and zero-points
// (quant/storage_bits.h; `with_scales` false counts codes only, as some papers do), and the
// kernels' modelled latency at a given number of tokens.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "framework/config/schema.h"
#include "framework/methods/allocation.h"
#include "framework/methods/allocations/site_groups.h"

namespace abq::methods {

struct Candidate {
  std::string label;                            // e.g. "w2*", "w4g64", "w4 a8t"
  quant::QuantSpec weights;
  std::optional<quant::QuantSpec> activations;  // the group's linear inputs; absent: the default
};

/// The schema of one entry of `candidates` (the QuantSpec keys, all optional, plus `activations`).
config::Schema candidate_schema();

/// Candidates from a validated list over `defaults`. Throws abq::ConfigError naming the entry
/// (candidates[i]) whose spec breaks a QuantSpec rule, or two entries with one label.
std::vector<Candidate> decode_candidates(const YAML::Node& list, const DefaultSpecs& defaults);

/// The spec of `site` (one of the group's weights or inputs) under `candidate`.
quant::QuantSpec candidate_spec(const Candidate& candidate, const SiteInfo& site, const DefaultSpecs& defaults);

/// Storage of the group's weights under the candidate, in bits (with or without scales / zeros).
double group_storage_bits(const SiteGroup& group, const Candidate& candidate, bool with_scales);

/// Modelled latency of the group's linears at `tokens` rows (µs); throws abq::ConfigError naming
/// the candidate when the kernels cannot run its formats on one of them.
double group_latency_us(const SiteGroup& group, const Candidate& candidate, const DefaultSpecs& defaults,
                        const LatencyModel& latency, int64_t tokens);

}  // namespace abq::methods
