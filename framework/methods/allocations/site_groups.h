// Site groups: the units a mixed-precision allocation chooses for. A group is one linear, or the
// linears tied together because they share one input and run fused (q/k/v; gate/up), with the
// activation sites at their inputs. Every member of a group gets the same candidate.
#pragma once

#include <string>
#include <vector>

#include "framework/methods/allocation.h"

namespace abq::methods {

/// Which linears share a choice: none, qkv (q/k/v of a block), gate_up (gate/up of a block), or both.
struct Ties {
  bool qkv = false;
  bool gate_up = false;
};
/// "none", "qkv", "gate_up", "qkv+gate_up"; throws abq::ConfigError otherwise.
Ties ties_from_string(const std::string& text);
std::vector<std::string> ties_names();

struct SiteGroup {
  std::string name;                    // e.g. layers.3.self_attn.qkv_proj, layers.3.mlp.down_proj
  std::vector<const SiteInfo*> weights;
  std::vector<const SiteInfo*> inputs;  // the linear-input activation sites of the members (deduplicated)
  int64_t parameters() const;           // weight elements of the members
};

/// The weight sites of `sites`, grouped per `ties`, in site-table order; `sites` must outlive them.
std::vector<SiteGroup> group_sites(const std::vector<SiteInfo>& sites, const Ties& ties);

}  // namespace abq::methods
