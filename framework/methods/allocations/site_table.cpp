#include "framework/methods/allocations/site_table.h"

#include <fnmatch.h>

namespace abq::methods {
namespace {

using model::LinearKind;
using model::SiteKind;

SiteRole role_of(SiteKind kind) {
  if (model::is_weight(kind)) return SiteRole::weight;
  if (model::is_attention(kind)) return SiteRole::kv;
  return SiteRole::activation;
}

// [out, in] of a linear in a LLaMA block: q [H·D, C], k/v [Hkv·D, C], o [C, H·D], gate/up [F, C], down [C, F].
std::pair<int64_t, int64_t> linear_shape(LinearKind kind, const model::LlamaConfig& c) {
  const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  switch (kind) {
    case LinearKind::q_proj: return {q, c.hidden_size};
    case LinearKind::k_proj:
    case LinearKind::v_proj: return {kv, c.hidden_size};
    case LinearKind::o_proj: return {c.hidden_size, q};
    case LinearKind::gate_proj:
    case LinearKind::up_proj: return {c.intermediate_size, c.hidden_size};
    case LinearKind::down_proj: return {c.hidden_size, c.intermediate_size};
  }
  return {0, 0};
}

void fill_shape(SiteInfo& info, const model::LlamaConfig& c) {
  if (info.role == SiteRole::kv) {
    info.out_features = info.kind == SiteKind::attn_q ? c.num_heads : c.num_kv_heads;
    info.in_features = c.head_dim;
    return;
  }
  const auto [out, in] = linear_shape(model::linear_of(info.kind), c);
  info.in_features = in;
  info.out_features = info.role == SiteRole::weight ? out : 0;
}

}  // namespace

std::vector<SiteInfo> allocation_sites(const model::LlamaConfig& config) {
  std::vector<SiteInfo> sites;
  for (int64_t layer = 0; layer < config.num_layers; ++layer)
    for (SiteKind kind : model::all_site_kinds()) {
      SiteInfo info;
      info.name = model::site_name(layer, kind);
      info.role = role_of(kind);
      info.layer = layer;
      info.kind = kind;
      info.module = info.role == SiteRole::kv ? info.name : info.name.substr(0, info.name.rfind('.'));
      fill_shape(info, config);
      sites.push_back(info);
    }
  return sites;
}

bool site_pattern_matches(const std::string& pattern, const SiteInfo& site) {
  return fnmatch(pattern.c_str(), site.name.c_str(), 0) == 0 ||
         fnmatch(pattern.c_str(), site.module.c_str(), 0) == 0;
}

}  // namespace abq::methods
