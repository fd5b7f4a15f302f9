// A model whose weights hold a NaN must not produce a run stored as complete: perplexity and
// zero-shot scoring both fail the run, and the stored error names the first non-finite weight.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "experiments/runner/run_experiment.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/export_model.h"
#include "framework/store/results_store.h"
#include "framework/tokenize/tokenizer.h"

namespace fs = std::filesystem;

namespace {

const std::string kSource = ABQ_SOURCE_DIR;

// The tiny random model of configs/models/tiny_random.yaml as an HF folder, with one NaN in
// layers.1.mlp.up_proj, or (overflow) finite weights whose final norm makes every NLL ~1e4, so
// that perplexity = exp(mean NLL) overflows to +inf.
std::string nan_model_folder(const std::string& dir, bool overflow = false) {
  abq::model::LlamaConfig c;
  c.vocab_size = 258;
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.tie_embeddings = true;
  c.bos_token_id = 256;
  c.eos_token_id = 257;
  auto model = abq::model::make_random_model(c, 0);
  if (overflow)
    model.weights().norm.mul_(1e6);
  else
    model.weights().layers[1].up_proj.weight[3][5] = NAN;
  const std::string folder = dir + (overflow ? "/overflow-model" : "/nan-model");
  abq::pipeline::export_model(model, {}, folder);
  return folder;
}

std::string experiment(const std::string& dir, const std::string& folder, const std::string& eval_line) {
  const std::string path = dir + "/nan.yaml";
  std::ofstream(path) << "name: nan\nmodel: {source: hf, path: " << folder << ", dtype: float32, device: cpu}\n"
                      << "tokenizer: {type: byte}\nresults: " << dir << "/nan.h5\neval:\n  - " << eval_line << "\n";
  return path;
}

std::string failed_error(const std::string& results) {
  abq::store::ResultsStore store(results);
  auto runs = store.read_all();
  EXPECT_EQ(runs.size(), 1u);
  if (runs.empty()) return "";
  EXPECT_EQ(runs[0].status, abq::store::RunStatus::failed);
  return runs[0].attributes.count("error") ? runs[0].attributes.at("error") : "";
}

class NonFiniteMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/abq_nonfinite_" + std::to_string(getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    folder_ = nan_model_folder(dir_);
  }
  std::string dir_, folder_;
};

TEST_F(NonFiniteMetrics, PerplexityFailsTheRunNamingTheWeight) {
  const auto yaml = experiment(dir_, folder_,
                               "{type: perplexity, data: " + kSource +
                                   "/experiments/data/sotu/heldout.txt, seqlen: 32, max_windows: 2}");
  abq::runner::RunOptions options;
  const auto summary = abq::runner::run_experiment(yaml, options);
  EXPECT_EQ(summary.completed, 0);
  EXPECT_EQ(summary.failed, 1);
  const std::string error = failed_error(dir_ + "/nan.h5");
  EXPECT_NE(error.find("layers.1.mlp.up_proj"), std::string::npos) << error;
  EXPECT_NE(error.find("non-finite NLL in window 0 of gptq.text-heldout (" + kSource +
                       "/experiments/data/sotu/heldout.txt)"),
            std::string::npos)
      << error;
}

TEST_F(NonFiniteMetrics, ZeroShotFailsTheRunNamingTheWeight) {
  const std::string piqa = kSource + "/tests/fixtures/evaluators/piqa/";
  const auto yaml = experiment(dir_, folder_,
                               "{type: zero_shot, task: piqa, data: " + piqa + "valid.jsonl, labels: " + piqa +
                                   "valid-labels.lst, limit: 4}");
  abq::runner::RunOptions options;
  const auto summary = abq::runner::run_experiment(yaml, options);
  EXPECT_EQ(summary.failed, 1);
  const std::string error = failed_error(dir_ + "/nan.h5");
  EXPECT_NE(error.find("log-likelihood"), std::string::npos) << error;
  EXPECT_NE(error.find("zero_shot piqa on " + piqa + "valid.jsonl"), std::string::npos) << error;
  EXPECT_NE(error.find("layers.1.mlp.up_proj"), std::string::npos) << error;
}

TEST_F(NonFiniteMetrics, InfinitePerplexityFailsTheRun) {
  const auto yaml = experiment(dir_, nan_model_folder(dir_, true),
                               "{type: perplexity, data: " + kSource +
                                   "/experiments/data/sotu/heldout.txt, seqlen: 32, max_windows: 2}");
  abq::runner::RunOptions options;
  EXPECT_EQ(abq::runner::run_experiment(yaml, options).failed, 1);
  const std::string error = failed_error(dir_ + "/nan.h5");
  EXPECT_NE(error.find("ppl = inf"), std::string::npos) << error;
  EXPECT_NE(error.find("every weight is finite"), std::string::npos) << error;
}

}  // namespace
