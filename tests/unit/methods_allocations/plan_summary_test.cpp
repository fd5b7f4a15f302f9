// Average bits and the setting label of a plan on the tiny config (2 layers; per layer q 1024,
// k 512, v 512, o 1024, gate 2048, up 2048, down 2048 weights = 9216; 256 output rows), with the
// sums written out by hand.
#include "framework/methods/allocations/plan_summary.h"

#include <gtest/gtest.h>

#include "framework/methods/allocations/site_overrides.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/methods/allocations/uniform.h"
#include "framework/model/llama_model.h"
#include "framework/model/parameter_count.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::methods {
namespace {

class PlanSummary_ : public ::testing::Test {
 protected:
  std::vector<SiteInfo> sites = allocation_sites(model::resolve_config(test::tiny_llama_config(2, 2)));
  DefaultSpecs defaults;
  void SetUp() override { defaults.weights.bits = 4; }
};

TEST_F(PlanSummary_, UniformPlansKeepThePaperLabel) {
  EXPECT_EQ(setting_label(uniform_plan(sites, defaults), sites), "W4A16KV16");
  defaults.weights.granularity = quant::Granularity::per_group;
  defaults.weights.group_size = 16;
  defaults.activations.bits = 8;
  defaults.activations.granularity = quant::Granularity::per_token;
  EXPECT_EQ(setting_label(uniform_plan(sites, defaults), sites), "W4A8KV16g16");
  defaults.weights = {};
  defaults.weights.bits = 2;
  defaults.weights.bit_balance = true;
  EXPECT_EQ(setting_label(uniform_plan(sites, defaults), sites), "W2A8KV16*");
  EXPECT_FALSE(summarize_plan(uniform_plan(sites, defaults), sites).mixed);
  EXPECT_EQ(setting_label(uniform_plan(sites, DefaultSpecs{}), sites), "W16A16KV16");
}

TEST_F(PlanSummary_, UniformW4PerChannelAveragesFourBitsPlusScales) {
  const auto s = summarize_plan(uniform_plan(sites, defaults), sites);
  EXPECT_EQ(s.weight_parameters, 18432);
  EXPECT_DOUBLE_EQ(s.weight_bits, 4.0);
  // 512 rows x (16 + 4) bits of scale and zero over 18432 weights
  EXPECT_DOUBLE_EQ(s.weight_bits_with_scales, 4.0 + 512.0 * 20.0 / 18432.0);
}

TEST_F(PlanSummary_, ModelBytesAddEveryOtherParameterInFloat16) {
  const auto s = summarize_plan(uniform_plan(sites, defaults), sites);
  // linears: (4 x 18432 + 512 x 20) / 8 = 10496 bytes; other: embed 64x32 + lm_head 64x32 (untied)
  // + final norm 32 + 2 layers x 2 norms x 32 = 4256 parameters at 2 bytes = 8512 bytes
  EXPECT_DOUBLE_EQ(model_storage_bytes(s, model::resolve_config(test::tiny_llama_config(2, 2))), 10496.0 + 8512.0);
  auto tied = model::resolve_config(test::tiny_llama_config(2, 2));
  tied.tie_embeddings = true;
  EXPECT_DOUBLE_EQ(model_storage_bytes(s, tied), 10496.0 + 2.0 * (4256 - 2048));
  EXPECT_DOUBLE_EQ(model_storage_bytes(summarize_plan(uniform_plan(sites, DefaultSpecs{}), sites), tied),
                   2.0 * (18432 + 4256 - 2048));
}

TEST(ParameterCount, SmolLM2HasTheParameterCountTransformersReports) {
  // SmolLM2-135M config: V 49152, C 576, F 1536, 30 layers, 9 heads of 64, 3 KV heads, tied.
  // 134,515,008 is transformers' model.num_parameters() for HuggingFaceTB/SmolLM2-135M; by hand:
  // 30 x (576 x 960 + 576 x 576 + 3 x 576 x 1536) + 49152 x 576 + 576 + 30 x 2 x 576.
  model::LlamaConfig c;
  c.vocab_size = 49152, c.hidden_size = 576, c.intermediate_size = 1536, c.num_layers = 30;
  c.num_heads = 9, c.num_kv_heads = 3, c.head_dim = 64, c.tie_embeddings = true;
  const auto n = model::parameter_count(c);
  EXPECT_EQ(n.block_linears, 106168320);
  EXPECT_EQ(n.total(), 134515008);
}

TEST_F(PlanSummary_, ASkippedSiteMakesTheWeightsMixedAndCountsSixteenBits) {
  SiteOverride skip;
  skip.pattern = "layers.0.mlp.down_proj.weight";
  skip.skip = true;
  const SitePlan plan = declared_plan(sites, defaults, {skip});
  const auto s = summarize_plan(plan, sites);
  // codes: 4 x (18432 - 2048) + 16 x 2048 = 98304; scales: (512 - 32) rows x 20 bits = 9600
  EXPECT_DOUBLE_EQ(s.weight_bits, 98304.0 / 18432.0);
  EXPECT_DOUBLE_EQ(s.weight_bits_with_scales, (98304.0 + 9600.0) / 18432.0);
  EXPECT_TRUE(s.mixed);
  EXPECT_EQ(setting_label(plan, sites), "W5.3A16KV16 mixed");
}

TEST_F(PlanSummary_, MixedActivationsPrintTheirMeanBits) {
  defaults.activations.bits = 8;
  SiteOverride down;
  down.pattern = "layers.*.mlp.down_proj.input";
  down.activations = defaults.activations;
  down.activations->bits = 4;
  // 14 linear-input sites, 2 of them at 4 bits: (12 x 8 + 2 x 4) / 14 = 7.43
  EXPECT_EQ(setting_label(declared_plan(sites, defaults, {down}), sites), "W4A7.4KV16 mixed");
}

TEST(SameGrid, ComparesWhatPutsATensorOnAGrid) {
  quant::QuantSpec a, b;
  a.bits = b.bits = 4;
  EXPECT_TRUE(same_grid(a, b));
  b.group_size = 64;
  b.granularity = quant::Granularity::per_group;
  EXPECT_FALSE(same_grid(a, b));
  EXPECT_TRUE(same_grid(quant::QuantSpec{}, [] { quant::QuantSpec s; s.bits = 20; return s; }()));
}

}  // namespace
}  // namespace abq::methods
