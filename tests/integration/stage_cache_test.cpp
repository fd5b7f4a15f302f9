// The stage cache in the pipeline (framework/core/stage_cache.h users: calibration windows,
// SmoothQuant's activation abs-max, block-wise calibration's fp chain). The reference for every
// cached result is the same computation without a cache, run in this test: a cached run must
// equal it bit for bit (weights, site statistics, metrics). Which stages may share an entry follows
// from what they depend on: the model, the windows and the corrections before them, never the
// swept weight bits.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "experiments/runner/load_experiment.h"
#include "experiments/runner/run_experiment.h"
#include "experiments/runner/window_codec.h"
#include "framework/calib/block_passes.h"
#include "framework/core/stage_cache.h"
#include "framework/methods/corrections/activation_stats.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/quantize_model.h"
#include "framework/store/merge_stores.h"
#include "framework/store/results_store.h"

namespace fs = std::filesystem;
using abq::StageCache;
using abq::pipeline::QuantizationReport;

namespace {

const std::string kSource = ABQ_SOURCE_DIR;

std::string scratch(const std::string& name) {
  const std::string dir = fs::temp_directory_path() / ("abq-stage-cache-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A tiny-model experiment whose runs are `runs` (YAML list items).
std::string write_experiment(const std::string& dir, const std::string& runs) {
  const std::string path = dir + "/experiment.yaml";
  std::ofstream(path) << "name: stage_cache\ninclude: [" << kSource << "/configs/models/tiny_random.yaml]\n"
                      << "results: " << dir << "/results.h5\n"
                      << "calibration: {data: " << kSource << "/experiments/data/sotu/calibration.txt, samples: 3, seqlen: 32, seed: 1}\n"
                      << "quant:\n  weights: {bits: 4}\n  activations: {bits: 8}\n"
                      << "eval:\n  - {type: perplexity, data: " << kSource
                      << "/experiments/data/sotu/heldout.txt, dataset: heldout, seqlen: 32, max_windows: 2}\n"
                      << "runs:\n"
                      << runs;
  return path;
}

std::vector<torch::Tensor> windows(int64_t seed, int64_t count = 3) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < count; ++i) out.push_back(torch::randint(0, 256, {1, 32}, torch::kInt64));  // [1, T]
  return out;
}

// One quantization of run `variant`: every tensor of the quantized model and the report.
struct Quantized {
  std::vector<torch::Tensor> tensors;
  QuantizationReport report;
};

Quantized quantize(const std::string& experiment, const std::string& variant, const std::vector<torch::Tensor>& calib,
                   const StageCache* cache, const std::vector<std::string>& overrides = {}) {
  for (const auto& spec : abq::runner::load_experiment(experiment, overrides)) {
    if (spec.variant != variant) continue;
    auto loaded = abq::pipeline::load_model(spec);
    Quantized q;
    q.report = abq::pipeline::quantize_model(*loaded.model, spec.quant, calib, "", false, loaded.model_sha256, cache);
    for (const auto& block : loaded.model->weights().layers) {
      for (auto kind : abq::model::all_linear_kinds()) q.tensors.push_back(block.linear(kind).weight.clone());
      q.tensors.push_back(block.input_norm.clone());
      q.tensors.push_back(block.post_attention_norm.clone());
    }
    return q;
  }
  ADD_FAILURE() << "no run " << variant;
  return {};
}

void expect_same(const Quantized& a, const Quantized& b, const std::string& what) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size()) << what;
  for (size_t i = 0; i < a.tensors.size(); ++i) EXPECT_TRUE(torch::equal(a.tensors[i], b.tensors[i])) << what << " tensor " << i;
  ASSERT_EQ(a.report.sites.size(), b.report.sites.size()) << what;
  for (size_t i = 0; i < a.report.sites.size(); ++i) {
    EXPECT_EQ(a.report.sites[i].site, b.report.sites[i].site) << what;
    EXPECT_EQ(a.report.sites[i].mse, b.report.sites[i].mse) << what << " " << a.report.sites[i].site;
  }
}

std::string outcome(const Quantized& q, const std::string& stage) { return q.report.stages.at(stage).outcome; }

const char* kRuns =
    "  - {name: smoothquant, set: {quant.corrections: [{type: smoothquant, alpha: 0.5}]}}\n"
    "  - {name: smoothquant-a08, set: {quant.corrections: [{type: smoothquant, alpha: 0.8}]}}\n"
    "  - {name: gptq, set: {quant.weight_quantizer: {type: gptq, block_size: 16}}}\n"
    "  - {name: rotation-smoothquant, set: {quant.corrections: [{type: rotation}, {type: smoothquant, alpha: 0.5}]}}\n"
    "  - {name: smoothquant-gptq, set: {quant.corrections: [{type: smoothquant, alpha: 0.5}], quant.weight_quantizer: {type: gptq, block_size: 16}}}\n"
    "  - {name: awq-gptq, set: {quant.corrections: [{type: awq, grid: 4}], quant.weight_quantizer: {type: gptq, block_size: 16}}}\n";

TEST(StageCachePipeline, WindowsRoundTripAndDamagedEncodingsAreMisses) {
  const std::vector<std::vector<int64_t>> w = {{1, 2, 3}, {}, {int64_t(1) << 40, -7}};
  const std::string bytes = abq::runner::encode_windows(w);
  EXPECT_EQ(abq::runner::decode_windows(bytes), w);
  EXPECT_FALSE(abq::runner::decode_windows(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(abq::runner::decode_windows(bytes + "x"));
}

TEST(StageCachePipeline, ActivationAbsmaxRoundTripsBitForBit) {
  std::map<std::string, torch::Tensor> absmax = {{"layers.0.self_attn.q_proj.input", torch::rand({5})},
                                                 {"layers.1.mlp.down_proj.input", torch::rand({3}) * 1e30}};
  const auto decoded = abq::methods::decode_absmax(abq::methods::encode_absmax(absmax));
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->size(), 2u);
  for (const auto& [site, t] : absmax) EXPECT_TRUE(torch::equal(decoded->at(site), t)) << site;
  EXPECT_FALSE(abq::methods::decode_absmax(abq::methods::encode_absmax(absmax).substr(3)));
}

// SmoothQuant and GPTQ: uncached, then a cold cache (miss), then a warm one (hit): all equal.
TEST(StageCachePipeline, CachedQuantizationEqualsUncachedBitForBit) {
  const std::string dir = scratch("equal");
  const std::string experiment = write_experiment(dir, kRuns);
  const StageCache cache(dir + "/cache");
  const auto calib = windows(3);
  for (const std::string variant : {"smoothquant", "gptq", "smoothquant-gptq"}) {
    const auto reference = quantize(experiment, variant, calib, nullptr);
    const auto cold = quantize(experiment, variant, calib, &cache);
    const auto warm = quantize(experiment, variant, calib, &cache);
    expect_same(reference, cold, variant + " cold cache");
    expect_same(reference, warm, variant + " warm cache");
    const bool smooths = variant != "gptq", calibrates = variant != "smoothquant";
    EXPECT_EQ(outcome(reference, "activation_stats"), smooths ? "off" : "n/a") << variant;
    EXPECT_EQ(outcome(reference, "fp_chain"), calibrates ? "off" : "n/a") << variant;
    // smoothquant-gptq's statistics are those the smoothquant run stored: same model and windows.
    const std::string first_stats = variant == "smoothquant-gptq" ? "hit" : "miss";
    EXPECT_EQ(outcome(cold, "activation_stats"), smooths ? first_stats : "n/a") << variant;
    EXPECT_EQ(outcome(cold, "fp_chain"), calibrates ? "miss" : "n/a") << variant;
    EXPECT_EQ(outcome(warm, "activation_stats"), smooths ? "hit" : "n/a") << variant;
    EXPECT_EQ(outcome(warm, "fp_chain"), calibrates ? "hit" : "n/a") << variant;
  }
  fs::remove_all(dir);
}

// Every entry damaged (one flipped payload byte): each is detected, recomputed and rewritten, and
// the result is still the uncached one.
TEST(StageCachePipeline, ADamagedEntryIsDetectedAndRecomputed) {
  const std::string dir = scratch("damaged");
  const std::string experiment = write_experiment(dir, kRuns);
  const StageCache cache(dir + "/cache");
  const auto calib = windows(3);
  const auto reference = quantize(experiment, "smoothquant-gptq", calib, nullptr);
  quantize(experiment, "smoothquant-gptq", calib, &cache);
  int damaged = 0;
  for (const auto& entry : fs::directory_iterator(dir + "/cache")) {
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    char last = 0;
    f.get(last);
    f.seekp(-1, std::ios::end);
    f.put(char(last ^ 0x10));
    ++damaged;
  }
  EXPECT_EQ(damaged, 1 + 2);  // the abs-max entry and one fp chain entry per block
  const auto redone = quantize(experiment, "smoothquant-gptq", calib, &cache);
  expect_same(reference, redone, "after damage");
  EXPECT_EQ(outcome(redone, "activation_stats"), "miss");
  EXPECT_EQ(outcome(redone, "fp_chain"), "miss");
  const auto repaired = quantize(experiment, "smoothquant-gptq", calib, &cache);
  EXPECT_EQ(outcome(repaired, "activation_stats"), "hit");
  EXPECT_EQ(outcome(repaired, "fp_chain"), "hit");
  expect_same(reference, repaired, "after repair");
  fs::remove_all(dir);
}

// A warm entry is shared across the swept weight bits and the corrections' own options that do not
// reach the stage; the model, the windows and a correction before the stage each change the key.
TEST(StageCachePipeline, KeysFollowModelWindowsAndEarlierCorrectionsNotWeightBits) {
  const std::string dir = scratch("keys");
  const std::string experiment = write_experiment(dir, kRuns);
  const StageCache cache(dir + "/cache");
  const auto calib = windows(3);
  EXPECT_EQ(outcome(quantize(experiment, "gptq", calib, &cache), "fp_chain"), "miss");
  EXPECT_EQ(outcome(quantize(experiment, "gptq", calib, &cache, {"quant.weights.bits=3"}), "fp_chain"), "hit");
  EXPECT_EQ(outcome(quantize(experiment, "gptq", calib, &cache, {"quant.weights.bits=2", "quant.activations.bits=16"}),
                    "fp_chain"), "hit");
  EXPECT_EQ(outcome(quantize(experiment, "gptq", windows(4), &cache), "fp_chain"), "miss");  // other windows
  EXPECT_EQ(outcome(quantize(experiment, "gptq", calib, &cache, {"model.random.seed=5"}), "fp_chain"), "miss");  // other model
  EXPECT_EQ(outcome(quantize(experiment, "gptq", calib, &cache, {"model.dtype=float64"}), "fp_chain"), "miss");

  EXPECT_EQ(outcome(quantize(experiment, "smoothquant", calib, &cache), "activation_stats"), "miss");
  EXPECT_EQ(outcome(quantize(experiment, "smoothquant", calib, &cache, {"quant.weights.bits=8"}), "activation_stats"), "hit");
  // Statistics are taken before smoothing: alpha does not reach them.
  EXPECT_EQ(outcome(quantize(experiment, "smoothquant-a08", calib, &cache), "activation_stats"), "hit");
  // A rotation before SmoothQuant changes the model the statistics are taken on.
  EXPECT_EQ(outcome(quantize(experiment, "rotation-smoothquant", calib, &cache), "activation_stats"), "miss");

  // GPTQ after SmoothQuant: the fp chain is that of the smoothed model, shared across weight bits.
  EXPECT_EQ(outcome(quantize(experiment, "smoothquant-gptq", calib, &cache), "fp_chain"), "miss");
  EXPECT_EQ(outcome(quantize(experiment, "smoothquant-gptq", calib, &cache, {"quant.weights.bits=3"}), "fp_chain"), "hit");
  // GPTQ after AWQ: AWQ searches on the weight grid, so the model it leaves differs per weight bits.
  EXPECT_EQ(outcome(quantize(experiment, "awq-gptq", calib, &cache), "fp_chain"), "miss");
  EXPECT_EQ(outcome(quantize(experiment, "awq-gptq", calib, &cache), "fp_chain"), "hit");
  EXPECT_EQ(outcome(quantize(experiment, "awq-gptq", calib, &cache, {"quant.weights.bits=3"}), "fp_chain"), "miss");
  EXPECT_EQ(outcome(quantize(experiment, "awq-gptq", calib, &cache), "activation_stats"), "n/a");  // AWQ reads no abs-max
  fs::remove_all(dir);
}

// Activation statistics and Y_fp do not depend on the thread count, so keys leave it out. Checked
// at SmolLM2-135M's widths (C 576, F 1536), where LibTorch and the BLAS split work across threads.
TEST(StageCachePipeline, StatisticsAndFpChainAreBitwiseEqualAcrossThreadCounts) {
  const std::string dir = scratch("threads");
  const std::string experiment = write_experiment(dir, kRuns);
  const std::vector<std::string> wide = {"model.random.hidden_size=576", "model.random.intermediate_size=1536",
                                         "model.random.num_heads=9", "model.random.num_kv_heads=3"};
  const auto spec = abq::runner::load_experiment(experiment, wide).front();
  auto loaded = abq::pipeline::load_model(spec);
  std::vector<torch::Tensor> calib;
  torch::manual_seed(9);
  for (int i = 0; i < 2; ++i) calib.push_back(torch::randint(0, 256, {1, 256}, torch::kInt64));
  const int threads = torch::get_num_threads();
  auto measure = [&](int n) {
    torch::set_num_threads(n);
    auto absmax = abq::methods::collect_input_absmax(*loaded.model, calib);
    std::vector<torch::Tensor> xs;
    for (const auto& w : calib) xs.push_back(loaded.model->embed(w));
    auto ys = abq::calib::fp_block_outputs(*loaded.model, 0, xs, torch::kCPU);
    return std::make_pair(absmax, ys);
  };
  const auto one = measure(1), two = measure(2);
  torch::set_num_threads(threads);
  for (const auto& [site, t] : one.first) EXPECT_TRUE(torch::equal(t, two.first.at(site))) << site;
  for (size_t w = 0; w < one.second.size(); ++w) EXPECT_TRUE(torch::equal(one.second[w], two.second[w])) << "window " << w;
  fs::remove_all(dir);
}

// `abq run` records cache_<stage> and seconds_<stage>; ABQ_CACHE_DIR=off turns every stage off, and
// the cached sweep stores the same results as the uncached one.
TEST(StageCachePipeline, RunsRecordEachStageAndOffDisablesAll) {
  const std::string dir = scratch("runs");
  const std::string experiment = write_experiment(
      dir, "  - {name: gptq-w4, set: {quant.weight_quantizer: {type: gptq, block_size: 16}}}\n"
           "  - {name: gptq-w3, set: {quant.weights.bits: 3, quant.weight_quantizer: {type: gptq, block_size: 16}}}\n");
  abq::runner::RunOptions cached;
  cached.results_path = dir + "/cached.h5";
  cached.stage_cache = dir + "/cache";
  ASSERT_EQ(abq::runner::run_experiment(experiment, cached).completed, 2);
  ::setenv("ABQ_CACHE_DIR", "off", 1);
  abq::runner::RunOptions off = cached;
  off.results_path = dir + "/off.h5";
  ASSERT_EQ(abq::runner::run_experiment(experiment, off).completed, 2);
  ::unsetenv("ABQ_CACHE_DIR");

  std::map<std::string, abq::store::RunRecord> on_runs, off_runs;
  for (auto& r : abq::store::ResultsStore(cached.results_path).read_all()) on_runs[r.attributes.at("name")] = r;
  for (auto& r : abq::store::ResultsStore(off.results_path).read_all()) off_runs[r.attributes.at("name")] = r;
  ASSERT_EQ(on_runs.size(), 2u);
  const auto& first = on_runs.at("gptq-w4").attributes;
  const auto& second = on_runs.at("gptq-w3").attributes;
  EXPECT_EQ(first.at("cache_calibration_windows"), "miss");
  EXPECT_EQ(second.at("cache_calibration_windows"), "hit");
  EXPECT_EQ(first.at("cache_fp_chain"), "miss");
  EXPECT_EQ(second.at("cache_fp_chain"), "hit");
  EXPECT_EQ(second.at("cache_activation_stats"), "n/a");
  for (const char* stage : {"calibration_windows", "fp_chain", "activation_stats"})
    EXPECT_GE(std::stod(second.at(std::string("seconds_") + stage)), 0.0) << stage;
  for (const auto& [name, r] : off_runs) {
    EXPECT_EQ(r.attributes.at("cache_calibration_windows"), "off") << name;
    EXPECT_EQ(r.attributes.at("cache_fp_chain"), "off") << name;
    EXPECT_EQ(abq::store::result_fingerprint(r), abq::store::result_fingerprint(on_runs.at(name))) << name;
  }
  fs::remove_all(dir);
}

}  // namespace
