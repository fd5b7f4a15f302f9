// allocation_sites against the LLaMA block's shapes written out by hand for the tiny GQA config
// (C 32, F 64, H 4, Hkv 2, D 8): q [32, 32], k/v [16, 32], o [32, 32], gate/up [64, 32], down [32, 64].
#include "framework/methods/allocations/site_table.h"

#include <map>

#include <gtest/gtest.h>

#include "framework/model/llama_model.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::methods {
namespace {

std::map<std::string, SiteInfo> by_name(const std::vector<SiteInfo>& sites) {
  std::map<std::string, SiteInfo> out;
  for (const auto& s : sites) out[s.name] = s;
  return out;
}

TEST(AllocationSites, EverySiteOfEveryLayerWithItsShapeAndRole) {
  const auto config = model::resolve_config(test::tiny_llama_config(2, 2));
  const auto sites = allocation_sites(config);
  ASSERT_EQ(sites.size(), size_t(2 * model::kNumSiteKinds));
  EXPECT_EQ(sites.front().name, "layers.0.self_attn.q_proj.weight");
  const auto s = by_name(sites);
  auto shape = [&](const std::string& name) { return std::make_pair(s.at(name).out_features, s.at(name).in_features); };
  EXPECT_EQ(shape("layers.1.self_attn.q_proj.weight"), std::make_pair(int64_t(32), int64_t(32)));
  EXPECT_EQ(shape("layers.1.self_attn.k_proj.weight"), std::make_pair(int64_t(16), int64_t(32)));
  EXPECT_EQ(shape("layers.1.self_attn.v_proj.weight"), std::make_pair(int64_t(16), int64_t(32)));
  EXPECT_EQ(shape("layers.1.self_attn.o_proj.weight"), std::make_pair(int64_t(32), int64_t(32)));
  EXPECT_EQ(shape("layers.1.mlp.gate_proj.weight"), std::make_pair(int64_t(64), int64_t(32)));
  EXPECT_EQ(shape("layers.1.mlp.down_proj.weight"), std::make_pair(int64_t(32), int64_t(64)));
  EXPECT_EQ(shape("layers.1.mlp.down_proj.input"), std::make_pair(int64_t(0), int64_t(64)));
  EXPECT_EQ(shape("layers.1.self_attn.q"), std::make_pair(int64_t(4), int64_t(8)));
  EXPECT_EQ(shape("layers.1.self_attn.k"), std::make_pair(int64_t(2), int64_t(8)));

  EXPECT_EQ(s.at("layers.1.mlp.down_proj.weight").role, SiteRole::weight);
  EXPECT_EQ(s.at("layers.1.mlp.down_proj.input").role, SiteRole::activation);
  EXPECT_EQ(s.at("layers.1.self_attn.v").role, SiteRole::kv);
  EXPECT_EQ(s.at("layers.1.mlp.down_proj.input").module, "layers.1.mlp.down_proj");
  EXPECT_EQ(s.at("layers.1.self_attn.v").module, "layers.1.self_attn.v");
  EXPECT_EQ(s.at("layers.1.mlp.up_proj.weight").layer, 1);
  EXPECT_EQ(s.at("layers.1.mlp.up_proj.weight").kind, model::SiteKind::up_proj_weight);
}

TEST(AllocationSites, PatternsMatchTheNameOrTheModuleAndStarCrossesDots) {
  const auto s = by_name(allocation_sites(model::resolve_config(test::tiny_llama_config(2, 2))));
  EXPECT_TRUE(site_pattern_matches("layers.*.mlp.down_proj", s.at("layers.1.mlp.down_proj.weight")));
  EXPECT_TRUE(site_pattern_matches("layers.*.mlp.down_proj", s.at("layers.1.mlp.down_proj.input")));
  EXPECT_TRUE(site_pattern_matches("*down_proj.weight", s.at("layers.0.mlp.down_proj.weight")));
  EXPECT_FALSE(site_pattern_matches("layers.*.mlp.down_proj", s.at("layers.1.mlp.up_proj.weight")));
  EXPECT_FALSE(site_pattern_matches("layers.1.*", s.at("layers.0.self_attn.k")));
}

}  // namespace
}  // namespace abq::methods
