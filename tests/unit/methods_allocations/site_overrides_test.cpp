// The override pass: order (later wins), roles (weights / activations / kv keys reach only their
// sites), skip, and the refusal of a pattern that matches nothing.
#include "framework/methods/allocations/site_overrides.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/methods/allocations/uniform.h"
#include "framework/model/llama_model.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::methods {
namespace {

quant::QuantSpec bits(int b) {
  quant::QuantSpec s;
  s.bits = b;
  return s;
}

class SiteOverrides : public ::testing::Test {
 protected:
  std::vector<SiteInfo> sites = allocation_sites(model::resolve_config(test::tiny_llama_config(2, 2)));
  DefaultSpecs defaults{bits(4), bits(8), bits(16)};
};

TEST_F(SiteOverrides, LaterOverridesWinAndEachKeyReachesOnlyItsRole) {
  SiteOverride all_down;
  all_down.pattern = "layers.*.mlp.down_proj";
  all_down.weights = bits(8);
  all_down.activations = bits(6);
  SiteOverride layer1_down;
  layer1_down.pattern = "layers.1.mlp.down_proj.weight";
  layer1_down.weights = bits(3);
  SiteOverride kv;
  kv.pattern = "layers.0.self_attn.[kv]";
  kv.kv = bits(4);
  const SitePlan plan = declared_plan(sites, defaults, {all_down, layer1_down, kv});
  EXPECT_EQ(plan.at("layers.0.mlp.down_proj.weight").bits, 8);
  EXPECT_EQ(plan.at("layers.1.mlp.down_proj.weight").bits, 3);
  EXPECT_EQ(plan.at("layers.1.mlp.down_proj.input").bits, 6);
  EXPECT_EQ(plan.at("layers.1.mlp.up_proj.weight").bits, 4);
  EXPECT_EQ(plan.at("layers.0.self_attn.k").bits, 4);
  EXPECT_EQ(plan.at("layers.0.self_attn.v").bits, 4);
  EXPECT_EQ(plan.at("layers.0.self_attn.q").bits, 16);
  EXPECT_EQ(plan.at("layers.1.self_attn.k").bits, 16);
}

TEST_F(SiteOverrides, SkipLeavesEveryMatchedSiteUnquantizedAfterAnyAllocation) {
  SitePlan plan = uniform_plan(sites, defaults);
  plan["layers.0.mlp.up_proj.weight"].bits = 2;  // as if an allocation chose it
  SiteOverride skip;
  skip.pattern = "layers.0.*";
  skip.skip = true;
  apply_site_overrides(plan, sites, {skip});
  for (const auto& site : sites)
    EXPECT_EQ(plan.at(site.name).enabled(), site.layer == 1 && site.role != SiteRole::kv) << site.name;
}

TEST_F(SiteOverrides, APatternMatchingNoSiteIsAnErrorNamingIt) {
  SiteOverride typo;
  typo.pattern = "layers.*.mlp.dwon_proj";
  typo.skip = true;
  SitePlan plan = uniform_plan(sites, defaults);
  try {
    apply_site_overrides(plan, sites, {SiteOverride{}, typo});
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    // the first (empty) pattern matches nothing either and is reported first
    EXPECT_NE(std::string(e.what()).find("override 0 pattern ''"), std::string::npos) << e.what();
  }
  try {
    apply_site_overrides(plan, sites, {typo});
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'layers.*.mlp.dwon_proj' matches no quantization site"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace abq::methods
