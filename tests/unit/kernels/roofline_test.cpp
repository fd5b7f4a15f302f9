// Expected values: the roofline formula of launch/roofline.h evaluated by hand for one case, and the
// path ranking of spec kernels-hopper.md §2.5 (b1 wins only when p·q < 8 at large M).
#include <gtest/gtest.h>

#include <string>

#include "kernels/kernels.h"
#include "kernels/launch/roofline.h"

namespace abq::kernels::launch {
namespace {

TEST(Roofline, HandComputedDecodeTime) {
  // W4A8 per-channel, M = 1, N = K = 4096: bytes = 4096·4096·0.5 + 4096·1·8 + 4096·1 + 4096·2
  // = 8,388,608 + 32,768 + 4,096 + 8,192 = 8,433,664 → 2.90816 µs at 2.9 TB/s, + 2 µs launch.
  EXPECT_NEAR(abq_model_time_us(ABQ_PATH_INT8_UNPACK, 1, 4096, 4096, {4, 0, 0, 0}, {8, 0, 0}), 4.90816, 1e-4);
}

TEST(Roofline, PicksPathsByRegime) {
  const abq_act_format a2{2, 0, 0}, a8{8, 0, 0}, a16{16, 0, 0};
  const abq_weight_format w2{2, 0, 0, 128}, w4{4, 0, 0, 128};
  EXPECT_EQ(abq_choose_path(2048, 4096, 4096, w2, a2, 90, ABQ_PATH_AUTO), ABQ_PATH_BITPLANE);
  EXPECT_EQ(abq_choose_path(2048, 4096, 4096, w4, a8, 90, ABQ_PATH_AUTO), ABQ_PATH_INT8_UNPACK);
  EXPECT_EQ(abq_choose_path(1, 4096, 4096, w2, a8, 90, ABQ_PATH_AUTO), ABQ_PATH_INT8_UNPACK);
  EXPECT_EQ(abq_choose_path(1, 4096, 4096, w4, a16, 90, ABQ_PATH_AUTO), ABQ_PATH_WEIGHT_ONLY);
  EXPECT_EQ(abq_choose_path(2048, 4096, 4096, w4, a8, 90, ABQ_PATH_BITPLANE), ABQ_PATH_BITPLANE);
}

TEST(Roofline, RejectsIncompatibleForceAndOldArch) {
  EXPECT_EQ(abq_choose_path(1, 4096, 4096, {4, 0, 0, 128}, {16, 0, 0}, 90, ABQ_PATH_BITPLANE), ABQ_PATH_AUTO);
  EXPECT_EQ(std::string(abq_last_error()),
            "abq_choose_path: path bitplane needs quantized activations (bits 2..8), got bits=16; use weight_only for "
            "fp16/bf16 activations");
  EXPECT_EQ(abq_choose_path(1, 4096, 4096, {4, 0, 0, 128}, {8, 0, 0}, 75, ABQ_PATH_AUTO), ABQ_PATH_AUTO);
  EXPECT_EQ(std::string(abq_last_error()),
            "abq_choose_path: the kernels need compute capability 8.0 or newer (mma.sync b1 AND / m16n8k32), got sm_75");
  EXPECT_LT(abq_model_time_us(ABQ_PATH_WEIGHT_ONLY, 1, 4096, 4096, {4, 0, 0, 128}, {8, 0, 0}), 0.0);
}

}  // namespace
}  // namespace abq::kernels::launch
