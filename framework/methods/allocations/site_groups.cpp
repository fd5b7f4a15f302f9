#include "framework/methods/allocations/site_groups.h"

#include <map>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/model/site_names.h"

namespace abq::methods {
namespace {

using model::SiteKind;

// The group a weight site belongs to under `ties`: the module name, or the block's fused name.
std::string group_name(const SiteInfo& site, const Ties& ties) {
  const std::string block = "layers." + std::to_string(site.layer);
  const bool qkv = site.kind == SiteKind::q_proj_weight || site.kind == SiteKind::k_proj_weight ||
                   site.kind == SiteKind::v_proj_weight;
  const bool gate_up = site.kind == SiteKind::gate_proj_weight || site.kind == SiteKind::up_proj_weight;
  if (ties.qkv && qkv) return block + ".self_attn.qkv_proj";
  if (ties.gate_up && gate_up) return block + ".mlp.gate_up_proj";
  return site.module;
}

}  // namespace

std::vector<std::string> ties_names() { return {"none", "qkv", "gate_up", "qkv+gate_up"}; }

Ties ties_from_string(const std::string& text) {
  if (text == "none") return {};
  if (text == "qkv") return {true, false};
  if (text == "gate_up") return {false, true};
  if (text == "qkv+gate_up") return {true, true};
  throw ConfigError(cat("ties '", text, "' is not one of ", join(ties_names())));
}

int64_t SiteGroup::parameters() const {
  int64_t n = 0;
  for (const auto* w : weights) n += w->out_features * w->in_features;
  return n;
}

std::vector<SiteGroup> group_sites(const std::vector<SiteInfo>& sites, const Ties& ties) {
  std::vector<SiteGroup> groups;
  std::map<std::string, size_t> index;
  std::map<std::string, const SiteInfo*> by_name;
  for (const auto& s : sites) by_name[s.name] = &s;
  for (const auto& s : sites) {
    if (s.role != SiteRole::weight) continue;
    const std::string name = group_name(s, ties);
    auto [it, fresh] = index.emplace(name, groups.size());
    if (fresh) groups.push_back({name, {}, {}});
    SiteGroup& g = groups[it->second];
    g.weights.push_back(&s);
    const std::string input = model::site_name(s.layer, model::input_site(model::linear_of(s.kind)));
    const auto found = by_name.find(input);
    if (found == by_name.end()) throw Error(cat("site table has no input site ", input, " for ", s.name));
    bool seen = false;
    for (const auto* i : g.inputs) seen = seen || i == found->second;
    if (!seen) g.inputs.push_back(found->second);
  }
  return groups;
}

}  // namespace abq::methods
