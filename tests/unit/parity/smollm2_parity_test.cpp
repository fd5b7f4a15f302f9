// Expected values: an independent float64 numpy LLaMA forward of SmolLM2-135M-Instruct (Q4_1 GGUF)
// by tools/fixtures/parity_smollm2_reference.py, with weights dequantized by the PyPI `gguf`
// package and the prompt tokenized by Hugging Face transformers from the GGUF vocabulary; stored
// in tests/fixtures/parity/smollm2/ (reference.json: tokens + per-position top-20 logits;
// logits_last.f32: the last position's full logit vector). The C++ path under test is
// io::GgufFile -> io::llama_config_from_gguf -> pipeline::weights_from_gguf -> LlamaModel::forward,
// and tokenize::tokenizer_from_gguf for the ids.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/checkpoint_loader.h"
#include "framework/tokenize/gguf_vocab.h"

namespace abq {
namespace {

const std::string kDir = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/parity/smollm2/";
constexpr double kTolerance = 1e-3;

std::string gguf_path() {
  if (const char* cache = std::getenv("ABQ_MODEL_CACHE")) return std::string(cache) + "/SmolLM2-135M-Instruct.Q4_1.gguf";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

nlohmann::json reference() {
  std::ifstream in(kDir + "reference.json");
  EXPECT_TRUE(in) << "cannot open " << kDir << "reference.json";
  return nlohmann::json::parse(in);
}

std::vector<float> last_logits() {
  std::ifstream in(kDir + "logits_last.f32", std::ios::binary | std::ios::ate);
  EXPECT_TRUE(in) << "cannot open " << kDir << "logits_last.f32";
  std::vector<float> values(static_cast<size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  return values;
}

class SmolLM2Parity : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = gguf_path();
    if (!std::ifstream(path_).good())
      GTEST_SKIP() << "SmolLM2 GGUF not found at " << path_ << " (run tools/fetch_model.sh to fetch it)";
    ref_ = reference();
    file_ = std::make_unique<io::GgufFile>(io::GgufFile::open(path_));
    ASSERT_EQ(static_cast<int64_t>(std::ifstream(path_, std::ios::binary | std::ios::ate).tellg()),
              ref_["gguf_size"].get<int64_t>())
        << path_ << " is not the file the reference was computed from";
  }
  std::string path_;
  nlohmann::json ref_;
  std::unique_ptr<io::GgufFile> file_;
};

TEST_F(SmolLM2Parity, TokenizerMatchesReferenceIds) {
  auto tok = tokenize::tokenizer_from_gguf(*file_);
  auto ids = tok->encode(ref_["prompt"].get<std::string>(), ref_["add_bos"].get<bool>());
  EXPECT_EQ(ids, ref_["tokens"].get<std::vector<int64_t>>());
}

TEST_F(SmolLM2Parity, LogitsMatchNumpyReference) {
  const auto config = io::llama_config_from_gguf(*file_);
  model::LlamaModel m(config, pipeline::weights_from_gguf(*file_, config, torch::kFloat32));
  const auto ids = ref_["tokens"].get<std::vector<int64_t>>();
  const int64_t T = static_cast<int64_t>(ids.size());
  auto tokens = torch::tensor(ids, torch::kLong).reshape({1, T});
  torch::NoGradGuard no_grad;
  auto logits = m.forward(tokens)[0];  // [T, V]
  ASSERT_EQ(logits.size(1), ref_["vocab_size"].get<int64_t>());

  // The last position, every vocabulary entry.
  auto expected = last_logits();
  ASSERT_EQ(static_cast<int64_t>(expected.size()), logits.size(1));
  auto expected_t = torch::from_blob(expected.data(), {logits.size(1)}, torch::kFloat32);
  const double last_diff = (logits[T - 1] - expected_t).abs().max().item<double>();
  std::printf("[parity] smollm2 last position: max |logits - numpy| = %.3g over %lld logits\n", last_diff,
              static_cast<long long>(logits.size(1)));
  EXPECT_LE(last_diff, kTolerance);

  // Every position: the reference's top-20 entries, and the same arg-max.
  double top_diff = 0.0;
  for (const auto& entry : ref_["top_k"]) {
    const int64_t pos = entry["position"].get<int64_t>();
    const auto top_ids = entry["ids"].get<std::vector<int64_t>>();
    const auto top_values = entry["logits"].get<std::vector<double>>();
    auto row = logits[pos];
    for (size_t k = 0; k < top_ids.size(); ++k)
      top_diff = std::max(top_diff, std::abs(row[top_ids[k]].item<double>() - top_values[k]));
    if (top_values[0] - top_values[1] > 2 * kTolerance) {
      EXPECT_EQ(row.argmax().item<int64_t>(), top_ids[0]) << "position " << pos;
    }
  }
  std::printf("[parity] smollm2 top-20 at %zu positions: max |diff| = %.3g\n", ref_["top_k"].size(), top_diff);
  EXPECT_LE(top_diff, kTolerance);
}

}  // namespace
}  // namespace abq
