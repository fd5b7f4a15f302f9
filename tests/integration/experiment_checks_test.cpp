// `abq validate` (load_experiment) reports cross-key problems at the key at fault; each of these
// configs validated before and failed in the run, after quantization. Expected messages follow
// from experiment_checks.h applied by hand to the inline files (positions counted in each text);
// input sizes from the LLaMA layout (q/k/v/gate/up read hidden_size, o_proj heads x head_dim,
// down_proj intermediate_size).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "experiments/runner/experiment_checks.h"
#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"
#include "framework/model/llama_config.h"
#include "tests/unit/io/gguf_writer.h"

namespace {

using namespace abq;

std::string write_experiment(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "checks_" + std::to_string(::getpid()) + "_" + name + ".yaml";
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.message();
  }
  return "(no error)";
}

const char* kHead = "name: t\nresults: out.h5\n";

TEST(ExperimentChecks, PerplexityStrideAboveSeqlenPointsAtStride) {
  const std::string f = write_experiment("stride", std::string(kHead) +
                                                       "eval:\n"
                                                       "  - type: perplexity\n"
                                                       "    data: d.txt\n"
                                                       "    seqlen: 8\n"
                                                       "    stride: 16\n");
  EXPECT_EQ(error_of([&] { runner::load_experiment(f, {}); }),
            f + ":7:5: eval[0].stride 16 is larger than seqlen 8\n"
                "    stride: 16\n"
                "    ^ windows of seqlen tokens start every stride tokens; stride must be in [1, seqlen] (0 = seqlen)");
}

TEST(ExperimentChecks, EvaluatorOptionChecksRunAtValidation) {
  const std::string f = write_experiment("c4", std::string(kHead) +
                                                   "eval:\n"
                                                   "  - {type: perplexity, protocol: c4, data: c4.json, seqlen: 8, stride: 4}\n");
  EXPECT_EQ(error_of([&] { runner::load_experiment(f, {}); }),
            f + ":4:6: eval[0]: perplexity: protocol c4 samples whole random windows; stride does not apply\n"
                "  - {type: perplexity, protocol: c4, data: c4.json, seqlen: 8, stride: 4}\n"
                "     ^");
}

TEST(ExperimentChecks, StaticPerTokenActivationsPointAtDynamic) {
  const std::string f = write_experiment("static", std::string(kHead) +
                                                       "calibration: {data: cal.txt}\n"
                                                       "quant:\n"
                                                       "  activations: {bits: 8, dynamic: false}\n");
  EXPECT_EQ(error_of([&] { runner::load_experiment(f, {}); }),
            f + ":5:26: quant.activations: static (calibrated) ranges support per_tensor, per_channel and per_head; "
                "got per_token, whose ranges belong to one vector and must be dynamic\n"
                "  activations: {bits: 8, dynamic: false}\n"
                "                         ^ set dynamic: true, or granularity: per_tensor / per_channel / per_head");
}

TEST(ExperimentChecks, CalibrationDataIsRequiredWhereItIsUsed) {
  const std::string f = write_experiment("nocalib", std::string(kHead) +
                                                        "quant:\n"
                                                        "  weights: {bits: 4}\n"
                                                        "  activations: {bits: 8, granularity: per_tensor, dynamic: false}\n"
                                                        "  weight_quantizer: {type: gptq}\n"
                                                        "  corrections: [{type: smoothquant, alpha: 0.5}]\n");
  EXPECT_EQ(error_of([&] { runner::load_experiment(f, {}); }),
            f + ":5:51: quant.activations: static activation ranges (dynamic: false) need calibration data\n"
                "  activations: {bits: 8, granularity: per_tensor, dynamic: false}\n"
                "                                                  ^ set calibration.data to a text file, or dynamic: true\n" +
                f + ":7:18: correction 'smoothquant' (quant.corrections[0]) needs calibration data\n"
                "  corrections: [{type: smoothquant, alpha: 0.5}]\n"
                "                 ^ set calibration.data to a text file\n" +
                f + ":6:22: weight quantizer 'gptq' needs calibration data\n"
                "  weight_quantizer: {type: gptq}\n"
                "                     ^ set calibration.data to a text file");
}

TEST(ExperimentChecks, RandomModelHeadsMustFit) {
  const std::string f = write_experiment("heads", std::string(kHead) +
                                                      "model:\n"
                                                      "  random: {hidden_size: 64, num_heads: 5, num_kv_heads: 2}\n");
  EXPECT_EQ(error_of([&] { runner::load_experiment(f, {}); }),
            f + ":4:29: model.random.num_heads 5 does not divide hidden_size 64\n"
                "  random: {hidden_size: 64, num_heads: 5, num_kv_heads: 2}\n"
                "                            ^ each head gets hidden_size / num_heads channels\n" +
                f + ":4:43: model.random.num_kv_heads 2 does not divide num_heads 5\n"
                "  random: {hidden_size: 64, num_heads: 5, num_kv_heads: 2}\n"
                "                                          ^ grouped-query attention shares each KV head among "
                "num_heads / num_kv_heads heads");
}

const char* kGroupTail =
    "calibration: {data: cal.txt}\n"
    "quant:\n"
    "  weights: {bits: 4, granularity: per_group, group_size: 64}\n"
    "  weight_quantizer: {type: gptq}\n"
    "  allocation:\n"
    "    overrides: [{sites: \"layers.1.*\", weights: {group_size: 48}}]\n";

// GPTQ on a random model: hidden 64, F 96, two layers. Default g64 misfits both down_proj (96); the override's
// g48 misfits layer 1's q/k/v/o/gate/up (64).
TEST(ExperimentChecks, GroupSizeMustDivideTheRandomModelsInputSizes) {
  const std::string f = write_experiment("groups", std::string(kHead) +
                                                       "model: {random: {hidden_size: 64, intermediate_size: 96}}\n" +
                                                       kGroupTail);
  const std::string hint =
      "gptq needs group_size to divide every input size it applies to; this model has hidden_size 64, "
      "attention output 64, intermediate_size 96";
  EXPECT_EQ(error_of([&] { runner::load_experiment(f, {}); }),
            f + ":6:46: quant.weights.group_size 64 does not divide the input size 96 of layers.0.mlp.down_proj\n"
                "  weights: {bits: 4, granularity: per_group, group_size: 64}\n"
                "                                             ^ " + hint + "\n" +
                f + ":9:49: quant.allocation.overrides[0].weights.group_size 48 does not divide the input size 64 of "
                "layers.1.self_attn.q_proj (and 5 more linears)\n"
                "    overrides: [{sites: \"layers.1.*\", weights: {group_size: 48}}]\n"
                "                                                ^ " + hint);
}

// A GGUF holding only metadata: validation reads its header for the shapes.
TEST(ExperimentChecks, GroupSizeIsCheckedAgainstAGgufHeader) {
  io::testing::GgufWriter g;
  g.kv_str("general.architecture", "llama");
  g.kv_u32("llama.context_length", 64);
  g.kv_u32("llama.embedding_length", 64);
  g.kv_u32("llama.block_count", 1);
  g.kv_u32("llama.feed_forward_length", 96);
  g.kv_u32("llama.attention.head_count", 4);
  g.kv_u32("llama.attention.head_count_kv", 2);
  g.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  g.kv_u32("llama.vocab_size", 40);
  const std::string gguf = ::testing::TempDir() + "checks_" + std::to_string(::getpid()) + "_header.gguf";
  io::testing::write_file(gguf, g.build());
  const std::string f = write_experiment("gguf", std::string(kHead) + "model: {source: gguf, path: " + gguf + "}\n" +
                                                     "calibration: {data: cal.txt}\n"
                                                     "quant:\n"
                                                     "  weights: {bits: 4, granularity: per_group, group_size: 64}\n"
                                                     "  weight_quantizer: {type: gptq}\n");
  EXPECT_EQ(error_of([&] { runner::load_experiment(f, {}); }),
            f + ":6:46: quant.weights.group_size 64 does not divide the input size 96 of layers.0.mlp.down_proj\n"
                "  weights: {bits: 4, granularity: per_group, group_size: 64}\n"
                "                                             ^ gptq needs group_size to divide every "
                "input size it applies to; this model has hidden_size 64, attention output 64, intermediate_size 96");
}

// A checkpoint validation cannot read (here: not there yet): the run checks the loaded model's
// shapes before calibrating, naming the key and where it is written.
TEST(ExperimentChecks, GroupSizeIsCheckedInTheRunWhenTheCheckpointWasUnreadable) {
  const std::string f = write_experiment("later", std::string(kHead) + "model: {source: hf, path: not_yet_there}\n" +
                                                      kGroupTail);
  const auto specs = runner::load_experiment(f, {});
  ASSERT_EQ(specs.size(), 1u);
  model::LlamaConfig c;
  c.vocab_size = 40;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  const std::string hint =
      "    gptq needs group_size to divide every input size it applies to; this model has hidden_size 64, "
      "attention output 64, intermediate_size 96";
  EXPECT_EQ(error_of([&] { runner::require_weight_groups_fit(specs[0], c); }),
            f + ":6:46: quant.weights.group_size 64 does not divide the input size 96 of layers.0.mlp.down_proj\n" +
                hint + "\n" + f +
                ":9:49: quant.allocation.overrides[0].weights.group_size 48 does not divide the input size 64 of "
                "layers.1.self_attn.q_proj (and 5 more linears)\n" +
                hint);
  c.hidden_size = 192;  // 192 = 3 x 64 = 4 x 48: every group fits
  c.intermediate_size = 384;
  EXPECT_EQ(error_of([&] { runner::require_weight_groups_fit(specs[0], c); }), "(no error)");
}

}  // namespace
