// End-to-end: a tiny experiment runs in-process, its record is read back from HDF5, and the FP
// perplexity is checked against an independent computation: exp of the mean next-token NLL of
// the same windows, computed here from the model's logits with plain loops (GPTQ protocol,
// evaluation-protocols.md §2.3).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "experiments/runner/load_experiment.h"
#include "experiments/runner/run_experiment.h"
#include "framework/core/error.h"
#include "framework/data/token_windows.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/model_loader.h"
#include "framework/store/results_store.h"

namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_pipeline.yaml";

std::string temp_results(const std::string& name) {
  std::string path = ::testing::TempDir() + "/abq_pipeline_" + name + ".h5";
  fs::remove(path);
  return path;
}

const abq::store::MetricRow* find_metric(const abq::store::RunRecord& r, const std::string& metric) {
  for (const auto& m : r.metrics)
    if (m.metric == metric) return &m;
  return nullptr;
}

}  // namespace

TEST(Pipeline, RunsRecordsAndResumes) {
  abq::runner::RunOptions options;
  options.results_path = temp_results("resume");
  auto summary = abq::runner::run_experiment(kFixture, options);
  EXPECT_EQ(summary.completed, 5);
  EXPECT_EQ(summary.failed, 0);

  abq::store::ResultsStore store(options.results_path);
  auto runs = store.read_all();
  ASSERT_EQ(runs.size(), 5u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.status, abq::store::RunStatus::complete) << r.attributes.at("name");
    const auto* ppl = find_metric(r, "ppl");
    ASSERT_NE(ppl, nullptr);
    EXPECT_TRUE(std::isfinite(ppl->value));
    EXPECT_EQ(ppl->n, 6);
    EXPECT_EQ(ppl->protocol.rfind("gptq.text-heldout.T64@", 0), 0u) << ppl->protocol;
    EXPECT_FALSE(r.attributes.at("config_yaml").empty());
    EXPECT_FALSE(r.attributes.at("git_sha").empty());
    EXPECT_EQ(r.attributes.at("libtorch").empty(), false);
    bool has_quantize_timing = false;
    for (const auto& t : r.timings) has_quantize_timing |= t.stage == "quantize";
    EXPECT_TRUE(has_quantize_timing);
  }
  // Site rows: none for FP; every weight and activation site for W4A8 (2 layers x (7 + 7)); the
  // skip override leaves layer 0 out.
  std::map<std::string, const abq::store::RunRecord*> by_name;
  for (const auto& r : runs) by_name[r.attributes.at("name")] = &r;
  EXPECT_TRUE(by_name.at("fp")->sites.empty());
  EXPECT_EQ(by_name.at("rtn-w4a8")->sites.size(), 28u);
  EXPECT_EQ(by_name.at("rtn-w4g16-skip0")->sites.size(), 14u);
  for (const auto& s : by_name.at("rtn-w4g16-skip0")->sites) {
    EXPECT_EQ(s.site.rfind("layers.1.", 0), 0u) << s.site;
    if (s.site.find(".weight") != std::string::npos) {
      EXPECT_EQ(s.granularity, "per_group");
      EXPECT_EQ(s.group_size, 16);
    }
  }
  // The plan is stored per run: one row per site (2 layers x 17), average bits as attributes and a
  // label that says the skip run is mixed. Tiny model per layer: q 64x64, k/v 32x64, o 64x64,
  // gate/up 128x64, down 64x128 = 36864 weights; layer 0 at 16 bits and layer 1 at 4 -> 10.0 bits;
  // scales: layer 1 has 2304 groups of 16, each (16 + 4) bits -> 10 + 46080 / 73728 = 10.625.
  const auto& skip = *by_name.at("rtn-w4g16-skip0");
  const auto& plan = skip.tables.at("plan");
  ASSERT_EQ(plan.rows(), 34u);
  EXPECT_EQ(plan.strings("site")[0], "layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(plan.i64("bits")[0], 16);
  EXPECT_EQ(plan.strings("site")[17], "layers.1.self_attn.q_proj.weight");
  EXPECT_EQ(plan.i64("bits")[17], 4);
  EXPECT_EQ(plan.i64("group_size")[17], 16);
  EXPECT_EQ(plan.strings("role")[18], "activation");
  EXPECT_EQ(plan.i64("bits")[18], 8);
  EXPECT_EQ(skip.attributes.at("avg_weight_bits"), "10");
  EXPECT_EQ(skip.attributes.at("avg_weight_bits_with_scales"), "10.625");
  EXPECT_EQ(skip.attributes.at("setting"), "W10.0A12.0KV16 mixed");
  // Whole model: 10.625 x 73728 / 8 = 97920 bytes of linears, plus the tied embedding 258 x 64,
  // the final norm 64 and 2 x 2 block norms of 64 = 16832 parameters in float16 (33664 bytes).
  EXPECT_EQ(skip.attributes.at("model_bytes"), "131584");
  EXPECT_EQ(skip.attributes.at("allocation"), "uniform");
  EXPECT_EQ(by_name.at("rtn-w4a8")->attributes.at("setting"), "W4A8KV16");
  EXPECT_EQ(by_name.at("fp")->attributes.at("avg_weight_bits"), "16");

  // GPTQ runs in the block-wise engine: every weight and activation site is recorded, and its
  // per-block checkpoints are removed once the run is stored.
  EXPECT_EQ(by_name.at("gptq-w4a8")->sites.size(), 28u);
  EXPECT_FALSE(fs::exists(options.results_path + ".calib"));
  EXPECT_NE(find_metric(*by_name.at("smoothquant-w4a8"), "fp_output_drift"), nullptr);
  EXPECT_LT(find_metric(*by_name.at("smoothquant-w4a8"), "fp_output_drift")->value, 1e-5);
  // The random model's perplexity sits near its vocabulary size whichever way quantization moves
  // it, so the quantized runs are ordered by their KL to the fp model instead: GPTQ minimises the
  // layer-output error that RTN leaves (GPTQ paper, §3), and 16-wide groups with layer 0 kept in
  // fp quantize with a finer grid than per-channel RTN.
  // Protocol ids name the protocol and the activation / KV state, not the weight format: the W4A8
  // runs (per-channel RTN, GPTQ) share one id, the fp run (A16) has another, and so has the skip
  // run, whose layer-0 activations stay fp (A12.0 mixed).
  auto protocol = [&](const char* run) { return find_metric(*by_name.at(run), "ppl")->protocol; };
  EXPECT_EQ(protocol("rtn-w4a8"), protocol("gptq-w4a8"));
  EXPECT_NE(protocol("rtn-w4a8"), protocol("fp"));
  EXPECT_NE(protocol("rtn-w4a8"), protocol("rtn-w4g16-skip0"));
  auto kl = [&](const char* run) { return find_metric(*by_name.at(run), "kl_mean")->value; };
  EXPECT_EQ(find_metric(*by_name.at("fp"), "kl_mean"), nullptr);
  EXPECT_GT(kl("rtn-w4a8"), 0.0);
  EXPECT_LT(kl("gptq-w4a8"), kl("rtn-w4a8"));
  EXPECT_LT(kl("rtn-w4g16-skip0"), kl("rtn-w4a8"));

  // Second run: everything is complete and skipped.
  auto again = abq::runner::run_experiment(kFixture, options);
  EXPECT_EQ(again.completed, 0);
  EXPECT_EQ(again.skipped, 5);
}

TEST(Pipeline, FpPerplexityMatchesIndependentNll) {
  abq::runner::RunOptions options;
  options.results_path = temp_results("fp");
  options.only = "fp";
  abq::runner::run_experiment(kFixture, options);
  abq::store::ResultsStore store(options.results_path);
  auto runs = store.read_all();
  ASSERT_EQ(runs.size(), 1u);
  double stored = find_metric(runs[0], "ppl")->value;

  auto spec = abq::runner::load_experiment(kFixture, {}).front();
  auto loaded = abq::pipeline::load_model(spec);
  std::string text = abq::data::read_text_file(std::string(ABQ_SOURCE_DIR) + "/experiments/data/sotu/heldout.txt");
  auto stream = loaded.tokenizer->encode(text, true);
  ASSERT_EQ(stream.front(), loaded.tokenizer->bos_id());
  double total = 0;
  const int64_t T = 64, windows = 6;
  torch::NoGradGuard no_grad;
  for (int64_t w = 0; w < windows; ++w) {
    auto tokens = torch::tensor(std::vector<int64_t>(stream.begin() + w * T, stream.begin() + (w + 1) * T)).unsqueeze(0);
    auto logits = loaded.model->forward(tokens).to(torch::kFloat64)[0];  // (T, V)
    double nll = 0;
    for (int64_t t = 0; t + 1 < T; ++t) {
      auto row = logits[t];
      double max = row.max().item<double>();
      double lse = max + std::log((row - max).exp().sum().item<double>());
      nll += lse - row[stream[w * T + t + 1]].item<double>();
    }
    total += nll / double(T - 1);
  }
  EXPECT_NEAR(stored, std::exp(total / windows), 1e-6 * stored);  // scoring is exact (token_logprobs.h)
}

TEST(Pipeline, ConfigHashIgnoresFormattingButNotValues) {
  auto a = abq::runner::load_experiment(kFixture, {});
  auto b = abq::runner::load_experiment(kFixture, {"calibration.samples=4"});  // same value
  auto c = abq::runner::load_experiment(kFixture, {"calibration.samples=5"});
  ASSERT_EQ(a.size(), 5u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].run_id, b[i].run_id);
    EXPECT_NE(a[i].run_id, c[i].run_id);
  }
}

// Cross-key rules (declared with the options: quant/quant_spec_options.cpp, the model's in
// experiment_spec.cpp) are reported at the key at fault, all of them, with the schema's problems.
TEST(Pipeline, CrossFieldConfigErrors) {
  auto message = [](const std::vector<std::string>& overrides) -> std::string {
    try {
      abq::runner::load_experiment(kFixture, {}, false, overrides);  // forced into every run
    } catch (const abq::ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message({"quant.weights.granularity=per_group", "quant.weights.group_size=0"}).find(
                "--set quant.weights.group_size=0: quant.weights.group_size: granularity per_group needs group_size > 0; "
                "got group_size 0"),
            std::string::npos);
  EXPECT_NE(message({"quant.weights.symmetric=true", "quant.weights.bits=1"}).find(
                "quant.weights.symmetric: symmetric quantization needs at least 2 bits"),
            std::string::npos);
  EXPECT_NE(message({"model.device=gpu"}).find("model.device: 'gpu' is not one of cpu, cuda, cuda:N"),
            std::string::npos);
  EXPECT_NE(message({"model.source=gguf"}).find("model.path: required for model.source gguf"),
            std::string::npos);
  // Collected, not the first only: two rules of two objects in one message.
  const std::string both = message({"model.device=gpu", "quant.activations.symmetric=true", "quant.activations.bits=1"});
  EXPECT_NE(both.find("model.device: 'gpu'"), std::string::npos) << both;
  EXPECT_NE(both.find("quant.activations.symmetric: symmetric quantization needs at least 2 bits"), std::string::npos)
      << both;
  // An override's spec is its keys over the role's default, checked by the same rules at its keys.
  const std::string override_message =
      message({"quant.allocation.overrides=[{sites: 'layers.0.*', weights: {granularity: per_group}}]"});
  EXPECT_NE(override_message.find("quant.allocation.overrides[0].weights.group_size: granularity per_group needs "
                                  "group_size > 0"),
            std::string::npos)
      << override_message;
}

// The rotation's `residual` and the learned quantizer's `let.shifts` are checked by the schema when
// the experiment loads: the allowed values, and a near-miss key named with its correction.
TEST(Pipeline, RotationResidualAndShiftKeysAreChecked) {
  auto message = [](const std::string& override_text) -> std::string {
    try {
      abq::runner::load_experiment(kFixture, {}, false, {override_text});
    } catch (const abq::ConfigError& e) {
      return e.what();
    }
    return "";
  };
  const auto residual = message("quant.corrections=[{type: rotation, residual: folded}]");
  EXPECT_NE(residual.find("fused"), std::string::npos) << residual;
  EXPECT_NE(residual.find("online"), std::string::npos) << residual;
  const auto shifts = message("quant.weight_quantizer={type: learned, let: {shifts: maybe}}");
  EXPECT_NE(shifts.find("shifts"), std::string::npos) << shifts;
  const auto typo = message("quant.weight_quantizer={type: learned, let: {shift: true}}");
  EXPECT_NE(typo.find("did you mean 'shifts'"), std::string::npos) << typo;
}

// An allocation pattern that matches no site fails the run (recorded as failed, with the pattern),
// instead of silently quantizing everything at the default spec.
TEST(Pipeline, AllocationPatternMatchingNothingFailsTheRun) {
  abq::runner::RunOptions options;
  options.results_path = temp_results("pattern");
  options.only = "rtn-w4a8";
  options.merge_duplicate_runs = true;  // the forced quantizer makes the gptq run the same config
  options.forced = {"quant.allocation.overrides=[{sites: 'layers.*.mlp.dwon_proj', skip: true}]"};
  auto summary = abq::runner::run_experiment(kFixture, options);
  EXPECT_EQ(summary.failed, 1);
  abq::store::ResultsStore store(options.results_path);
  auto runs = store.read_all();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, abq::store::RunStatus::failed);
  EXPECT_NE(runs[0].attributes.at("error").find("pattern 'layers.*.mlp.dwon_proj' matches no quantization site"),
            std::string::npos)
      << runs[0].attributes.at("error");
}

// An HF checkpoint (the parity fixture, written by tools/fixtures/parity_make_hf.py) loads through
// the pipeline; the byte tokenizer's 258 ids do not fit its 128-entry vocabulary, which is refused.
TEST(Pipeline, TokenizerMustFitTheModelVocabulary) {
  std::string dir = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/parity/llama_gqa_tied";
  auto spec = abq::runner::load_experiment(
                  kFixture, {}, false, {"model.source=hf", "model.path=" + dir, "tokenizer.type=byte"})
                  .front();
  try {
    abq::pipeline::load_model(spec);
    FAIL() << "expected abq::ConfigError";
  } catch (const abq::ConfigError& e) {
    EXPECT_EQ(e.message(), "the tokenizer (tokenizer.type: byte) has 258 ids but the model's vocabulary has 128; "
                           "use the checkpoint's own tokenizer (tokenizer.type: auto)");
  }
}

// The default model loads through the pipeline: config from GGUF metadata, weights dequantized,
// the GGUF vocabulary as tokenizer, and the source precision named for tables.
TEST(Pipeline, LoadsTheDefaultGgufModel) {
  auto spec = abq::runner::load_experiment(std::string(ABQ_SOURCE_DIR) + "/experiments/quickstart.yaml", {}).front();
  if (!fs::exists(spec.resolve_path(spec.model.path))) GTEST_SKIP() << "no " << spec.model.path << " (run tools/fetch_model.sh)";
  auto loaded = abq::pipeline::load_model(spec);
  EXPECT_EQ(loaded.model->config().num_layers, 30);
  EXPECT_EQ(loaded.model->config().vocab_size, 49152);
  EXPECT_EQ(loaded.tokenizer->vocab_size(), 49152);
  EXPECT_EQ(loaded.weights_note, "GGUF Q4_1-dequantized (SmolLM2-135M-Instruct.Q4_1.gguf)");
}

// Learned calibration (configs/methods/abq_llm.yaml's pieces) through YAML: the run completes, the
// calibration_blocks table has one row per block with finite losses, and the store's per-site rows
// cover every weight and activation site. Reference for the ordering: the same fixture's RTN run.
TEST(Pipeline, LearnedCalibrationThroughYaml) {
  abq::runner::RunOptions options;
  options.results_path = temp_results("learned");
  options.only = "rtn-w4a8";
  options.merge_duplicate_runs = true;  // the forced quantizer makes the gptq run the same config
  options.forced = {"quant.weight_quantizer={type: learned, epochs: 2, let: {enabled: true, pairs: {fc2: true}}, "
                    "compensation: {enabled: true, first_blocks: 1, last_blocks: 0}, "
                    "loss: {aug_mse: true, dlc: true, attention_kl: true}}"};
  auto summary = abq::runner::run_experiment(kFixture, options);
  ASSERT_EQ(summary.completed, 1);
  abq::store::ResultsStore store(options.results_path);
  const auto run = store.read_all().front();
  ASSERT_EQ(run.tables.count("calibration_blocks"), 1u);
  const auto& blocks = run.tables.at("calibration_blocks");
  ASSERT_EQ(blocks.rows(), 2u);
  for (double loss : blocks.f64("final_loss")) EXPECT_TRUE(std::isfinite(loss));
  for (int64_t r : blocks.i64("restarts")) EXPECT_EQ(r, 0);
  EXPECT_EQ(run.sites.size(), 28u);
  EXPECT_TRUE(std::isfinite(find_metric(run, "ppl")->value));
}

// A rotation before learned calibration: the learned pairs must act after the rotation's online
// transforms (both residual modes), AffineQuant's shifts included. At W8A16 the calibrated model
// must stay within 0.5% of the fp perplexity (measured 0.05%; a norm pair applied before the
// rotation instead of after it measured 3.5%), the rotation's fp check is recorded, and no block restarts.
TEST(Pipeline, RotationThenLearnedCalibration) {
  abq::runner::RunOptions fp_options;
  fp_options.results_path = temp_results("rotation_learned_fp");
  fp_options.only = "fp";
  ASSERT_EQ(abq::runner::run_experiment(kFixture, fp_options).completed, 1);
  const double fp_ppl = find_metric(abq::store::ResultsStore(fp_options.results_path).read_all().front(), "ppl")->value;
  for (const char* residual : {"fused", "online"}) {
    SCOPED_TRACE(residual);
    abq::runner::RunOptions options;
    options.results_path = temp_results(std::string("rotation_learned_") + residual);
    options.only = "fp";  // the forced settings make every run of the fixture this one; the first name stays
    options.merge_duplicate_runs = true;
    options.forced = {"quant.weights.bits=8", "quant.activations.bits=16",
                      std::string("quant.corrections=[{type: rotation, residual: ") + residual + "}]",
                      "quant.weight_quantizer={type: learned, epochs: 2, let: {enabled: true, shifts: true, "
                      "pairs: {fc2: true}}, affine: {ln_matrix: true}}"};
    ASSERT_EQ(abq::runner::run_experiment(kFixture, options).completed, 1);
    abq::store::ResultsStore store(options.results_path);
    const auto run = store.read_all().front();
    ASSERT_NE(find_metric(run, "fp_output_drift"), nullptr);
    EXPECT_LT(find_metric(run, "fp_output_drift")->value, 1e-4);
    for (int64_t r : run.tables.at("calibration_blocks").i64("restarts")) EXPECT_EQ(r, 0);
    EXPECT_NEAR(find_metric(run, "ppl")->value, fp_ppl, 0.005 * fp_ppl);
  }
}

// Each ABQ-LLM addition is a switch, and each one changes what calibration does: the per-block
// final losses or the perplexity of the calibrated model differ from the run without it (learned
// calibration with LET, W4A8, one epoch on the tiny fixture).
TEST(Pipeline, AblationSwitchesChangeTheRun) {
  auto calibrate = [](const std::string& name, const std::vector<std::string>& extra) {
    abq::runner::RunOptions options;
    options.results_path = temp_results("ablation_" + name);
    options.only = "fp";  // the forced settings make every run of the fixture this one
    options.merge_duplicate_runs = true;
    options.forced = {"quant.weights.bits=4", "quant.activations.bits=8",
                      "quant.weight_quantizer={type: learned, epochs: 1, let: {enabled: true}}"};
    options.forced.insert(options.forced.end(), extra.begin(), extra.end());
    EXPECT_EQ(abq::runner::run_experiment(kFixture, options).completed, 1) << name;
    const auto run = abq::store::ResultsStore(options.results_path).read_all().front();
    std::vector<double> out = run.tables.at("calibration_blocks").f64("final_loss");
    out.push_back(find_metric(run, "ppl")->value);
    return out;
  };
  const auto base = calibrate("base", {});
  for (const char* on : {"quant.weight_quantizer.loss.attention_kl=true", "quant.weight_quantizer.loss.dlc=true",
                         "quant.weight_quantizer.compensation.enabled=true",
                         "quant.weight_quantizer.let.pairs.fc2=true"}) {
    const std::string name = std::string(on).substr(std::string(on).rfind('.', std::string(on).find('=')) + 1);
    EXPECT_NE(calibrate(name, {on}), base) << on << " left the calibrated losses and the perplexity unchanged";
  }
  // Bit balance exists only at 2 bits (the 5-level grid): W2* against W2.
  EXPECT_NE(calibrate("w2star", {"quant.weights.bits=2", "quant.weights.bit_balance=true"}),
            calibrate("w2", {"quant.weights.bits=2"}))
      << "bit_balance left the calibrated losses and the perplexity unchanged";
}

// Mixed precision through the whole pipeline: the plan feeds GPTQ, an override still wins after
// it, and the run stores the candidate table, the predicted Pareto curve and the predicted loss
// beside its measured perplexity. An infeasible budget fails the run with the smallest feasible
// value in the message.
TEST(Pipeline, MixedPrecisionPlanFeedsGptqAndIsStored) {
  const std::string cache = ::testing::TempDir() + "/abq_pipeline_mixed_cache";
  fs::remove_all(cache);
  ::setenv("ABQ_CACHE_DIR", cache.c_str(), 1);
  abq::runner::RunOptions options;
  options.results_path = temp_results("mixed");
  options.only = "gptq-w4a8";
  options.forced = {
      "quant.activations.bits=16",
      "quant.allocation={type: mixed, measure: block_mse, budget: {avg_bits: 3.5}, candidates: [{bits: 2}, {bits: 3}, "
      "{bits: 4}, {bits: 6}], overrides: [{sites: 'layers.0.mlp.down_proj', weights: {bits: 8}}]}"};
  auto summary = abq::runner::run_experiment(kFixture, options);
  ASSERT_EQ(summary.completed, 1);
  abq::store::ResultsStore store(options.results_path);
  const auto run = store.read_all().at(0);
  EXPECT_EQ(run.attributes.at("allocation"), "mixed");
  EXPECT_EQ(run.attributes.at("allocation_measure"), "block_mse");
  EXPECT_TRUE(std::isfinite(std::stod(run.attributes.at("predicted_loss"))));
  EXPECT_LE(std::stod(run.attributes.at("allocated_bits_per_parameter")), 3.5);
  const auto& table = run.tables.at("allocation");
  EXPECT_EQ(table.rows(), size_t(2 * 4 * 4));  // 2 blocks x 4 tied groups x 4 candidates
  const auto& plan = run.tables.at("plan");
  for (size_t i = 0; i < plan.rows(); ++i)
    if (plan.strings("site")[i] == "layers.0.mlp.down_proj.weight") EXPECT_EQ(plan.i64("bits")[i], 8);  // override
  EXPECT_NE(run.attributes.at("setting").find("mixed"), std::string::npos);
  EXPECT_GT(run.tables.at("allocation_pareto").rows(), 1u);
  ASSERT_NE(find_metric(run, "ppl"), nullptr);

  options.results_path = temp_results("mixed_infeasible");
  options.forced[1] = "quant.allocation={type: mixed, measure: hessian, budget: {avg_bits: 1.2}, candidates: [{bits: 2}]}";
  summary = abq::runner::run_experiment(kFixture, options);
  EXPECT_EQ(summary.failed, 1);
  abq::store::ResultsStore failed(options.results_path);
  EXPECT_NE(failed.read_all().at(0).attributes.at("error").find("budget.avg_bits: 1.2 is infeasible; the smallest feasible value is"),
            std::string::npos)
      << failed.read_all().at(0).attributes.at("error");
  ::unsetenv("ABQ_CACHE_DIR");
  fs::remove_all(cache);
}
