// Packed weights against fake_quant (framework/quant/fake_quant.h) as the reference: the codes,
// scales and zero-points it returns, packed in either kernel layout over padded K, dequantize to
// its fake weight bit for bit, including fake_quant's ragged last group; padded columns hold the
// code of zero of their group (packed_weight.h).
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/packed/kernel_format.h"
#include "framework/packed/packed_linear.h"
#include "framework/packed/packed_weight.h"
#include "framework/quant/fake_quant.h"
#include "tests/support/quant_spec_builder.h"

namespace abq::packed {
namespace {

using quant::Granularity;
using quant::QuantSpec;

using test::quant_spec;

std::vector<QuantSpec> specs() {
  return {quant_spec(4, Granularity::per_group, 128, false), quant_spec(2, Granularity::per_group, 64, false, true),
          quant_spec(3, Granularity::per_channel, 0, false), quant_spec(8, Granularity::per_channel, 0, true),
          quant_spec(2, Granularity::per_group, 128, true),  quant_spec(4, Granularity::per_tensor, 0, false)};
}

PackedWeight pack_fake(const QuantSpec& s, const torch::Tensor& w, abq_path layout, torch::Tensor* fake = nullptr) {
  quant::FakeQuantOptions options;
  options.with_codes = true;
  const auto q = quant::fake_quant(w, s, options);
  if (fake) *fake = q.fake;
  PackedWeight p = pack_quantized(s, q.codes, q.scale, q.zero);
  return repack(p, layout);
}

TEST(PackedWeight, DequantizesToTheFakeWeightBitForBit) {
  torch::manual_seed(7);
  for (int64_t k : {576, 200, 128, 96})  // 576 and 200: a ragged last group of 128; 96 < 128
    for (const auto& s : specs())
      for (abq_path layout : {ABQ_PATH_BITPLANE, ABQ_PATH_WEIGHT_ONLY}) {
        const auto w = torch::randn({24, k});
        torch::Tensor fake;
        const PackedWeight p = pack_fake(s, w, layout, &fake);
        EXPECT_EQ(p.k_padded, padded_k(k));
        const auto deq = dequantize(p);
        const auto back = torch::from_blob(const_cast<float*>(deq.data()), {24, k}, torch::kFloat32);
        EXPECT_TRUE(torch::equal(back, fake)) << quant::describe(s, "w") << " K " << k << " " << abq_path_name(layout);
      }
}

TEST(PackedWeight, PaddingHoldsTheCodeOfZeroOfItsGroup) {
  torch::manual_seed(3);
  const QuantSpec s = quant_spec(4, Granularity::per_group, 64, false);
  const PackedWeight p = pack_fake(s, torch::randn({5, 200}), ABQ_PATH_WEIGHT_ONLY);  // groups 64, 64, 64, 8 (+56), 64
  const auto codes = unpack(p);
  ASSERT_EQ(p.groups(), 4);  // 256 / 64: the ragged group of 8 continues into the padding
  for (int64_t r = 0; r < 5; ++r) {
    for (int64_t j = 200; j < 256; ++j) EXPECT_EQ(codes.codes[size_t(r * 256 + j)], p.zeros[size_t(r * 4 + 3)]);
  }
  // Bytes: 5 x 256 codes at 4 bits, 20 scales and 20 zero-points.
  EXPECT_EQ(p.resident_bytes(), 5 * 256 / 2 + 20 * 4 + 20 * 4);
}

TEST(PackedWeight, AZeroPointOutsideTheCodesMakesThePaddingInexact) {
  // All weights of the last (ragged) group positive: min > 0, so z = round(−min/Δ) < 0.
  auto w = torch::randn({2, 200});
  w.index_put_({torch::indexing::Slice(), torch::indexing::Slice(128, 200)},
               torch::rand({2, 72}) + 1.0);
  const PackedWeight p = pack_fake(quant_spec(4, Granularity::per_group, 128, false), w, ABQ_PATH_WEIGHT_ONLY);
  EXPECT_FALSE(p.padding_exact);
  EXPECT_LT(p.zeros[1], 0);
}

TEST(PackedWeight, BadInputIsRefusedWithItsPlace) {
  const QuantSpec s = quant_spec(4, Granularity::per_channel, 0, false);
  std::vector<int32_t> codes(2 * 128, 3);
  codes[130] = 16;  // outside [0, 15]
  const std::vector<float> scale = {0.1f, 0.1f}, zero = {8.0f, 8.5f};
  try {
    pack_weight(s, 2, 128, codes.data(), scale.data(), zero.data(), ABQ_PATH_WEIGHT_ONLY);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zero-point 8.5 of row 1"), std::string::npos) << e.what();
  }
  const std::vector<float> zero_ok = {8.0f, 8.0f};
  try {
    pack_weight(s, 2, 128, codes.data(), scale.data(), zero_ok.data(), ABQ_PATH_WEIGHT_ONLY);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("code 16 at [1, 2]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pack_weight(quant_spec(4, Granularity::per_group, 32, false), 2, 128, codes.data(), scale.data(),
                           zero_ok.data(), ABQ_PATH_WEIGHT_ONLY),
               Error);
}

}  // namespace
}  // namespace abq::packed
