// The AWQ correction searches its scales on the experiment's weight plan: in a sweep over
// quant.weights.bits, the W3 run's scales differ from the W4 run's and equal those of a W3 run on
// its own. The scales are read off the norm weights they were folded into (RTN leaves norms alone).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "experiments/runner/load_experiment.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/quantize_model.h"

namespace fs = std::filesystem;

namespace {

const std::string kSource = ABQ_SOURCE_DIR;

std::string write_experiment(const std::string& dir, const std::string& name, const std::string& runs) {
  const std::string path = dir + "/" + name + ".yaml";
  std::ofstream(path) << "name: " << name << "\ninclude: [" << kSource << "/configs/models/tiny_random.yaml]\n"
                      << "results: " << dir << "/" << name << ".h5\n"
                      << "calibration: {data: " << kSource << "/experiments/data/sotu/calibration.txt, samples: 2, seqlen: 32}\n"
                      << "quant:\n  weights: {bits: 4}\n  activations: {bits: 16}\n"
                      << "  corrections: [{type: awq, grid: 10}]\n"
                      << runs;
  return path;
}

// Norm weights after quantize_model, per run name.
std::map<std::string, std::vector<torch::Tensor>> norms_after_awq(const std::string& path) {
  torch::manual_seed(7);
  const std::vector<torch::Tensor> windows = {torch::randint(0, 256, {1, 32}, torch::kInt64),
                                              torch::randint(0, 256, {1, 32}, torch::kInt64)};
  std::map<std::string, std::vector<torch::Tensor>> out;
  for (const auto& spec : abq::runner::load_experiment(path, {})) {
    auto loaded = abq::pipeline::load_model(spec);
    abq::pipeline::quantize_model(*loaded.model, spec.quant, windows);
    for (const auto& block : loaded.model->weights().layers) {
      out[spec.variant].push_back(block.input_norm.clone());
      out[spec.variant].push_back(block.post_attention_norm.clone());
    }
  }
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

TEST(AwqPlanGrid, SweepOverWeightBitsMovesTheScaleSearch) {
  const std::string dir = fs::temp_directory_path() / ("awq-grid-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto sweep = norms_after_awq(write_experiment(
      dir, "sweep", "runs:\n  - {name: w3, set: {quant.weights.bits: 3}}\n  - {name: w4, set: {}}\n"));
  const auto single = norms_after_awq(write_experiment(dir, "single", "runs:\n  - {name: w3, set: {quant.weights.bits: 3}}\n"));
  ASSERT_EQ(sweep.size(), 2u);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_FALSE(same(sweep.at("w3"), sweep.at("w4"))) << "W3 and W4 searched on the same grid";
  EXPECT_TRUE(same(sweep.at("w3"), single.at("w3")));
  fs::remove_all(dir);
}

}  // namespace
