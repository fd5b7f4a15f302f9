// A GPTQ run interrupted after a calibration block, whose model file is then replaced at the same
// path by another model of the same shape, must not resume with the old model's blocks: the re-run
// starts calibration afresh and stores exactly what an uninterrupted run of the new model stores.
// Expected values: that uninterrupted run, in its own results file (the CPU engine is
// deterministic, so equal means bit-equal). The interruption is real: model A's block 1 overflows
// (a post-attention norm of 3e38), so calibration fails after committing block 0's checkpoint,
// as a killed or failing job leaves it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiments/runner/run_experiment.h"
#include "framework/core/log.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/export_model.h"
#include "framework/store/results_store.h"

namespace fs = std::filesystem;
using namespace abq;

namespace {

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_pipeline.yaml";

// tiny_random.yaml's shape (V 258 fits the byte tokenizer) with 3 layers.
model::LlamaConfig config() {
  model::LlamaConfig c;
  c.vocab_size = 258;
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.num_layers = 3;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.tie_embeddings = true;
  c.rms_eps = 1e-5;
  return c;
}

// An HF folder holding `model` only (no abq_quant.json: nothing to reinstall).
void write_model(const model::LlamaModel& model, const std::string& folder) {
  pipeline::export_model(model, pipeline::ExportedQuant{"W16A16KV16", {}}, folder);
  fs::remove(folder + "/abq_quant.json");
}

std::string committed_state(const std::string& calib_root) {
  for (const auto& e : fs::recursive_directory_iterator(calib_root))
    if (e.path().filename() == "state.json") {
      std::ifstream in(e.path());
      std::stringstream text;
      text << in.rdbuf();
      return text.str();
    }
  return "";
}

// Bit-equal, NaN included (sites without a statistic store NaN).
bool same(double x, double y) { return (std::isnan(x) && std::isnan(y)) || x == y; }

store::RunRecord only_run(const std::string& results) {
  store::ResultsStore store(results);
  auto runs = store.read_all();
  EXPECT_EQ(runs.size(), 1u) << results;
  return runs.empty() ? store::RunRecord{} : runs.front();
}

}  // namespace

TEST(CalibrationResume, ModelReplacedAtTheSamePathStartsAfresh) {
  const std::string dir = ::testing::TempDir() + "abq_calib_resume_" + std::to_string(::getpid());
  fs::remove_all(dir);
  const std::string folder = dir + "/model";

  auto a = model::make_random_model(config(), 1);
  {
    torch::NoGradGuard no_grad;
    a.weights().layers[1].post_attention_norm.fill_(3e38);
  }  // block 1 overflows: calibration stops there
  write_model(a, folder);
  runner::RunOptions run;
  run.results_path = dir + "/runs.h5";
  run.only = "gptq-w4a8";
  run.overrides = {"model.source=hf", "model.path=" + folder};
  set_log_level(LogLevel::error);  // the failure of the first run is expected
  EXPECT_EQ(runner::run_experiment(kFixture, run).failed, 1);
  const std::string state = committed_state(run.results_path + ".calib");
  ASSERT_NE(state.find("\"next_block\": 1"), std::string::npos) << "block 0 of model A should be committed: " << state;

  write_model(model::make_random_model(config(), 2), folder);  // model B at the same path
  const auto rerun = runner::run_experiment(kFixture, run);
  EXPECT_EQ(rerun.completed, 1);
  EXPECT_FALSE(fs::exists(run.results_path + ".calib")) << "every checkpoint of the run is removed once it is stored";

  runner::RunOptions fresh = run;
  fresh.results_path = dir + "/fresh.h5";
  EXPECT_EQ(runner::run_experiment(kFixture, fresh).completed, 1);
  set_log_level(LogLevel::info);

  const auto resumed = only_run(run.results_path), reference = only_run(fresh.results_path);
  EXPECT_EQ(resumed.status, store::RunStatus::complete);
  EXPECT_EQ(resumed.attributes.at("model_sha256"), reference.attributes.at("model_sha256"));
  ASSERT_EQ(resumed.sites.size(), reference.sites.size());
  for (size_t i = 0; i < resumed.sites.size(); ++i) {
    EXPECT_EQ(resumed.sites[i].site, reference.sites[i].site);
    EXPECT_TRUE(same(resumed.sites[i].mse, reference.sites[i].mse))
        << resumed.sites[i].site << ": " << resumed.sites[i].mse << " vs " << reference.sites[i].mse;
  }
  ASSERT_EQ(resumed.metrics.size(), reference.metrics.size());
  for (size_t i = 0; i < resumed.metrics.size(); ++i) {
    EXPECT_EQ(resumed.metrics[i].metric, reference.metrics[i].metric);
    EXPECT_TRUE(same(resumed.metrics[i].value, reference.metrics[i].value))
        << resumed.metrics[i].metric << ": " << resumed.metrics[i].value << " vs " << reference.metrics[i].value;
  }
  fs::remove_all(dir);
}
