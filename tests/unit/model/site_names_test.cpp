// Expected values: the site naming scheme documented in site_names.h (HF module paths under
// "layers.{i}." with ".weight" / ".input" suffixes and self_attn.q / .k / .v), written out by hand.
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/model/site_names.h"

namespace abq::model {
namespace {

TEST(SiteNames, FormatsFromTable) {
  EXPECT_EQ(site_name(7, SiteKind::down_proj_weight), "layers.7.mlp.down_proj.weight");
  EXPECT_EQ(site_name(7, SiteKind::q_proj_input), "layers.7.self_attn.q_proj.input");
  EXPECT_EQ(site_name(0, SiteKind::attn_k), "layers.0.self_attn.k");
  EXPECT_EQ(norm_weight_name(3, NormKind::post_attention_layernorm), "layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(linear_bias_name(2, LinearKind::v_proj), "layers.2.self_attn.v_proj.bias");
}

TEST(SiteNames, ParseRoundTripsEverySite) {
  LlamaConfig config;
  config.num_layers = 12;
  auto sites = all_sites(config);
  ASSERT_EQ(sites.size(), 12u * 17u);
  EXPECT_EQ(sites[0], "layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(sites[16], "layers.0.self_attn.v");
  EXPECT_EQ(sites[17], "layers.1.self_attn.q_proj.weight");
  for (const auto& s : sites) {
    auto ref = parse_site(s);
    ASSERT_TRUE(ref.has_value()) << s;
    EXPECT_EQ(site_name(ref->layer, ref->kind), s);
  }
  EXPECT_EQ(parse_site("layers.11.mlp.gate_proj.input")->layer, 11);
}

TEST(SiteNames, ParseRejectsNonSites) {
  for (const char* bad : {"layers.x.mlp.up_proj.weight", "layers.1.mlp.up_proj", "layer.1.mlp.up_proj.weight",
                          "layers.01.mlp.up_proj.weight", "layers.-1.mlp.up_proj.weight", "layers..self_attn.q",
                          "layers.1.self_attn.q.input", "", "layers.1.", "model.layers.1.mlp.up_proj.weight"})
    EXPECT_FALSE(parse_site(bad).has_value()) << bad;
}

TEST(SiteNames, KindHelpers) {
  int weights = 0, inputs = 0, attention = 0;
  for (SiteKind k : all_site_kinds()) {
    weights += is_weight(k);
    inputs += is_input(k);
    attention += is_attention(k);
    EXPECT_EQ(is_weight(k) + is_input(k) + is_attention(k), 1);
  }
  EXPECT_EQ(weights, 7);
  EXPECT_EQ(inputs, 7);
  EXPECT_EQ(attention, 3);
  for (LinearKind l : all_linear_kinds()) {
    EXPECT_EQ(linear_of(weight_site(l)), l);
    EXPECT_EQ(linear_of(input_site(l)), l);
    EXPECT_TRUE(is_weight(weight_site(l)));
    EXPECT_TRUE(is_input(input_site(l)));
  }
  EXPECT_STREQ(linear_name(LinearKind::gate_proj), "mlp.gate_proj");
  EXPECT_THROW(linear_of(SiteKind::attn_q), std::logic_error);
}

TEST(SiteNames, RequireSiteChecksLayerRange) {
  LlamaConfig config;
  config.num_layers = 2;
  EXPECT_EQ(require_site("layers.1.self_attn.v", config), (SiteRef{1, SiteKind::attn_v}));
  EXPECT_THROW(require_site("layers.2.self_attn.v", config), Error);
  EXPECT_THROW(require_site("self_attn.v", config), Error);
}

}  // namespace
}  // namespace abq::model
