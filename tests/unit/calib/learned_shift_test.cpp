// AffineQuant's trainable shifts in learned calibration (spec abq-llm-algorithm.md §19.3; reference
// semantics: bytedance/AffineQuant models/transformation.py, smooth_ln_fcs / smooth_fc_fc / smooth_q_k).
// Expected values: the fp block itself — every pair a shift belongs to is an exact equivalence, so
// the transformed block must compute the fp block's output for any shift, scale or matrix (fp64,
// relative 1e-10); the q/k pair is included with scales equal across each rotary pair, where it
// is exact too. For the initialisation: the reference's zeros and its optimizer grouping. For the
// checkpoint: the saved tensors themselves (a round trip).
#include <unistd.h>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/tiny_llama_config.h"

#include "framework/calib/block_checkpoint.h"
#include "framework/methods/learned/block_transform.h"
#include "framework/model/llama_model.h"
#include "framework/model/rope.h"

namespace abq::methods {
namespace {

constexpr int64_t C = 32, F = 64, H = 4, HKV = 2, D = 8, T = 6;
const model::AttentionDims kDims{H, HKV, D};

torch::Tensor randn(std::vector<int64_t> shape) { return torch::randn(shape, torch::kFloat64); }
torch::Tensor positive(std::vector<int64_t> shape) { return torch::rand(shape, torch::kFloat64) + 0.5; }
// Diagonally dominant, so the masked matrix stays well conditioned.
torch::Tensor near_diagonal(int64_t n) { return torch::diag(positive({n})) + 0.05 * randn({n, n}); }
// Per KV head, the same value at i and i + D/2: the scale commutes with RoPE's rotation.
torch::Tensor rotary_paired(int64_t kv_heads) {
  auto half = positive({kv_heads, D / 2});
  return torch::cat({half, half}, 1);  // [Hkv, D]
}

// q / k / v carry biases (as Qwen2's do); o, gate, up get theirs from the shifts.
model::DecoderBlock fp64_block() {
  model::DecoderBlock b;
  b.input_norm = positive({C});
  b.post_attention_norm = positive({C});
  b.q_proj = {0.2 * randn({H * D, C}), 0.1 * randn({H * D})};
  b.k_proj = {0.2 * randn({HKV * D, C}), 0.1 * randn({HKV * D})};
  b.v_proj = {0.2 * randn({HKV * D, C}), 0.1 * randn({HKV * D})};
  b.o_proj = {0.2 * randn({C, H * D}), {}};
  b.gate_proj = {0.2 * randn({F, C}), {}};
  b.up_proj = {0.2 * randn({F, C}), {}};
  b.down_proj = {0.2 * randn({C, F}), {}};
  return b;
}

torch::Tensor forward(const model::DecoderBlock& b, const torch::Tensor& x) {
  model::RopeCache cache(model::rope_inv_freq(D, 10000.0, {}));
  return model::decoder_block_forward(x, b, kDims, 1e-5, cache.get(T, torch::kCPU, torch::kFloat64));
}

void random_shifts(TransformParams& p) {
  p.shift_qkv = randn({C});
  p.shift_fc1 = randn({C});
  p.shift_out = randn({HKV * D});
}

double relative_error(const model::DecoderBlock& transformed, const model::DecoderBlock& fp, const torch::Tensor& x) {
  const auto want = forward(fp, x);
  return ((forward(transformed, x) - want).abs().max() / want.abs().max()).item<double>();
}

TEST(LearnedShifts, AnyShiftKeepsTheFpBlockWithDiagonalScales) {
  torch::manual_seed(11);
  const auto fp = fp64_block();
  TransformParams p;
  p.s_qkv = positive({C});
  p.s_fc1 = positive({C});
  p.s_out = positive({HKV * D});
  p.s_qkt = rotary_paired(HKV).reshape({-1});
  p.s_fc2 = positive({F});
  random_shifts(p);
  const auto b = transform_block(fp, p, {}, kDims);
  ASSERT_TRUE(b.attn_input_bias.defined() && b.mlp_input_bias.defined());
  ASSERT_TRUE(b.o_proj.bias.defined() && b.gate_proj.bias.defined() && b.up_proj.bias.defined());
  EXPECT_LE(relative_error(b, fp, randn({2, T, C})), 1e-10);
}

TEST(LearnedShifts, AnyShiftKeepsTheFpBlockWithAffineMatrices) {
  torch::manual_seed(12);
  const auto fp = fp64_block();
  TransformParams p;
  p.a_qkv = near_diagonal(C);
  p.a_fc1 = near_diagonal(C);
  p.a_out = torch::diag_embed(positive({HKV, D})) + 0.05 * randn({HKV, D, D});
  p.a_qk = torch::diag_embed(rotary_paired(HKV));  // a matrix that commutes with RoPE
  random_shifts(p);
  AffineMasks masks;  // a partial band: the masked matrices, not the raw ones, must be inverted
  masks.hidden = band_mask(C, 1, 3, 0.5, true).to(torch::kFloat64);
  masks.head = band_mask(D, 1, 3, 0.5, true).to(torch::kFloat64);
  const auto b = transform_block(fp, p, masks, kDims);
  ASSERT_TRUE(b.attn_input_transform.defined() && b.attn_input_bias.defined());
  EXPECT_LE(relative_error(b, fp, randn({2, T, C})), 1e-10);
}

// A block that already reads through online transforms (a rotation applied before calibration):
// every pair must act after them, with diagonal scales and with matrices, shifts included.
TEST(LearnedShifts, PairsComposeWithExistingOnlineTransforms) {
  torch::manual_seed(13);
  auto fp = fp64_block();
  auto orthogonal = [](int64_t n) { return std::get<0>(torch::linalg_qr(randn({n, n}))); };
  fp.attn_input_transform = orthogonal(C);
  fp.mlp_input_transform = orthogonal(C);
  fp.down_input_transform = orthogonal(F);
  TransformParams diagonal;
  diagonal.s_qkv = positive({C});
  diagonal.s_fc1 = positive({C});
  diagonal.s_out = positive({HKV * D});
  diagonal.s_fc2 = positive({F});
  random_shifts(diagonal);
  EXPECT_LE(relative_error(transform_block(fp, diagonal, {}, kDims), fp, randn({2, T, C})), 1e-10);
  TransformParams matrices;
  matrices.a_qkv = near_diagonal(C);
  matrices.a_fc1 = near_diagonal(C);
  matrices.s_fc2 = positive({F});
  random_shifts(matrices);
  AffineMasks masks;
  masks.hidden = band_mask(C, 2, 3, 0.5, true).to(torch::kFloat64);
  EXPECT_LE(relative_error(transform_block(fp, matrices, masks, kDims), fp, randn({2, T, C})), 1e-10);
}

TEST(LearnedShifts, ZeroInitialisedTrainableAndOnlyWhenAsked) {
  torch::manual_seed(13);
  const auto fp = fp64_block();
  ActivationAbsMax act{positive({C}), positive({C}), positive({H * D}), positive({F})};
  LearnedOptions o;
  o.let = true;
  o.affine.out_matrix = true;
  const auto off = init_transform(fp, act, kDims, o, false);  // OmniQuant / ABQ-LLM: no shifts on LLaMA
  EXPECT_FALSE(off.shift_qkv.defined() || off.shift_fc1.defined() || off.shift_out.defined());

  o.shifts = true;
  auto on = init_transform(fp, act, kDims, o, false);
  const std::vector<std::pair<torch::Tensor, int64_t>> shifts = {{on.shift_qkv, C}, {on.shift_fc1, C}, {on.shift_out, HKV * D}};
  for (const auto& [shift, size] : shifts) {
    ASSERT_TRUE(shift.defined());
    EXPECT_EQ(shift.sizes(), torch::IntArrayRef({size}));
    EXPECT_EQ(shift.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(shift.requires_grad());
    EXPECT_EQ(shift.abs().max().item<double>(), 0.0);
  }
  EXPECT_EQ(on.let_parameters().size(), off.let_parameters().size() + 3) << "shifts train in the LET group";

  o.pairs.fc1 = false;  // a pair that is off has no shift
  EXPECT_FALSE(init_transform(fp, act, kDims, o, false).shift_fc1.defined());
}

TEST(LearnedShifts, CheckpointRestoresTheBiasesShiftsAdd) {
  auto model = model::make_random_model(test::tiny_llama_config(2), 3);
  torch::manual_seed(14);
  auto& b = model.weights().layers[0];
  b.attn_input_bias = torch::randn({32});
  b.mlp_input_bias = torch::randn({32});
  b.o_proj.bias = torch::randn({32});
  b.up_proj.bias = torch::randn({64});
  b.attn_input_transform = torch::randn({32, 32});
  calib::Streams streams{{torch::randn({1, 4, 32})}, {torch::randn({1, 4, 32})}};
  const auto dir = (std::filesystem::temp_directory_path() / ("abq_shift_ckpt_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  calib::save_block_checkpoint(dir, "fingerprint", 0, model, streams, {});

  auto fresh = model::make_random_model(test::tiny_llama_config(2), 3);  // no biases, no online transforms
  ASSERT_TRUE(calib::load_block_checkpoint(dir, "fingerprint", fresh, torch::kCPU).has_value());
  const auto& r = fresh.weights().layers[0];
  for (const auto& [got, want] : std::vector<std::pair<torch::Tensor, torch::Tensor>>{
           {r.attn_input_bias, b.attn_input_bias}, {r.mlp_input_bias, b.mlp_input_bias}, {r.o_proj.bias, b.o_proj.bias},
           {r.up_proj.bias, b.up_proj.bias}, {r.attn_input_transform, b.attn_input_transform}}) {
    ASSERT_TRUE(got.defined());
    EXPECT_TRUE(torch::equal(got, want));
  }
  EXPECT_FALSE(r.q_proj.bias.defined() || r.mlp_input_transform.defined()) << "only what was saved appears";
  EXPECT_FALSE(fresh.weights().layers[1].attn_input_bias.defined());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace abq::methods
