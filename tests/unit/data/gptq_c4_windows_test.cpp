// GPTQ's C4 sampler against CPython: tests/fixtures/evaluators/python_draws.json, written by
// tools/fixtures/evaluators_draws.py (get_c4's loop on synthetic document lengths); the error
// cases follow CPython's randint on an empty range.
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/data/gptq_c4_windows.h"
#include "tests/unit/data/corpus_fixture.h"

namespace abq::data {
namespace {

using testing::read_json;

TEST(GptqC4Sampler, ReproducesCPythonDraws) {
  for (const auto& c : read_json("python_draws.json")["c4"]) {
    std::vector<int64_t> lengths = c["lengths"].get<std::vector<int64_t>>();
    auto encode = [&](int64_t i) { return std::vector<int64_t>(size_t(lengths[size_t(i)]), i); };
    auto windows = gptq_c4_windows(int64_t(lengths.size()), encode, c["count"], c["seqlen"], c["seed"]);
    const auto& draws = c["draws"];
    ASSERT_EQ(windows.size(), draws.size());
    for (size_t w = 0; w < draws.size(); ++w) {
      EXPECT_EQ(windows[w].doc, draws[w][0].get<int64_t>()) << "window " << w;
      EXPECT_EQ(windows[w].offset, draws[w][1].get<int64_t>()) << "window " << w;
      EXPECT_EQ(int64_t(windows[w].tokens.size()), c["seqlen"].get<int64_t>());
    }
  }
}

TEST(GptqC4Sampler, ADocumentOfExactlySeqlenRaisesLikeRandint) {
  auto encode = [](int64_t) { return std::vector<int64_t>(16, 0); };
  EXPECT_THROW(gptq_c4_windows(3, encode, 1, 16, 0), Error);  // randint(0, -1)
  auto short_docs = [](int64_t) { return std::vector<int64_t>(4, 0); };
  EXPECT_THROW(gptq_c4_windows(3, short_docs, 1, 16, 0, 100), Error);  // never long enough
}

}  // namespace
}  // namespace abq::data
