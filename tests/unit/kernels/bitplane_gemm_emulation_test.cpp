// Expected values: the exact integer reference (reference/gemm_reference.h); the AND+popcount
// emulation over bit-planes must reproduce its group sums exactly for every (p, q) pair.
#include <gtest/gtest.h>

#include <random>

#include "kernels/reference/bitplane_gemm_emulation.h"
#include "kernels/reference/bitplane_pack.h"
#include "random_operands.h"

namespace abq::kernels::reference {
namespace {

TEST(BitplaneGemmEmulation, EqualsIntegerReferenceForEveryFormat) {
  std::mt19937 rng(2024);
  const int groups[3] = {0, 64, 128};
  const int64_t ms[4] = {1, 3, 8, 13};
  const int64_t ks[3] = {128, 256, 384};
  int index = 0;
  for (int wb = 1; wb <= 9; ++wb)   // 9 = W2* (3-bit storage, 5 levels)
    for (int xb = 2; xb <= 8; ++xb)
      for (int wsym = 0; wsym < 2; ++wsym)
        for (int xsym = 0; xsym < 2; ++xsym) {
          if (wsym && (wb < 2 || wb == 9)) continue;
          ++index;
          abq_weight_format wf{wb == 9 ? 3 : wb, wb == 9 ? 5 : 0, wsym, groups[index % 3]};
          abq_act_format xf{xb, 0, xsym};
          const int64_t m = ms[index % 4], n = 8 + 8 * (index % 2), k = ks[index % 3];
          auto w = testing::random_weights(rng, n, k, wf);
          auto x = testing::random_acts(rng, m, k, xf);
          const auto wp = pack_bitplanes(w.codes, n, k, wf.bits);
          const auto xp = pack_bitplanes(x.codes, m, k, xf.bits);
          ASSERT_EQ(bitplane_group_sums(xp, m, xf, x.zeros, wp, n, wf, w.zeros, k), integer_group_sums(w, x))
              << testing::describe_case(m, n, k, wf, xf);
        }
}

TEST(BitplaneGemmEmulation, SignedTopPlaneHasNegativeWeight) {
  // One non-zero element pair: x = −1 (signed 2-bit 11b: x0 = x1 = 1), w = −2 (10b: w0 = 0, w1 = 1).
  // Plane weights +1, −2 for both operands: x0·w1 → (+1)(−2) = −2, x1·w1 → (−2)(−2) = +4; sum 2 = (−1)(−2).
  std::vector<int32_t> xc(128, 0), wc(128, 0);
  xc[17] = -1;
  wc[17] = -2;
  abq_act_format xf{2, 0, 1};
  abq_weight_format wf{2, 0, 1, 0};
  const auto sums = bitplane_group_sums(pack_bitplanes(xc, 1, 128, 2), 1, xf, {}, pack_bitplanes(wc, 1, 128, 2), 1, wf,
                                        {}, 128);
  EXPECT_EQ(sums, std::vector<int64_t>{2});
}

}  // namespace
}  // namespace abq::kernels::reference
