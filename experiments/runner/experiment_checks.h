// Cross-key checks of one resolved run, made when the experiment is loaded, so that
// `abq validate` reports them at the file:line:col of the key at fault instead of a run failing
// after quantization:
//
//   eval[i]                  the evaluator's own option checks (perplexity: stride <= seqlen, ...)
//   quant.activations / kv   static ranges (dynamic: false) need per_tensor, per_channel or per_head
//   calibration.data         needed by corrections, Hessian / learned weight quantizers, static ranges
//   model.random             num_heads divides hidden_size; num_kv_heads divides num_heads
//   per_group weight specs   gptq / awq_clip: group_size divides the input size of every linear it
//                            applies to (RTN quantizes a shorter last group)
//   quant.execution: packed  device cpu, a resident model, a weight quantizer that keeps its codes
//                            (rtn, gptq, awq_clip; learned is refused naming the first site),
//                            and every quantized linear's format one the kernels run (site, K,
//                            group size named; framework/packed/kernel_format.h)
//
// The last one needs the model's shapes: a random model's come from its config, a checkpoint's from
// its header (GGUF metadata, HF config.json) when that file can be read now. When it cannot, the
// run checks the loaded model with `require_weight_groups_fit` before any calibration starts.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "framework/config/diagnostics.h"
#include "framework/config/document.h"
#include "framework/model/llama_config.h"
#include "framework/pipeline/experiment_spec.h"

namespace abq::runner {

/// Checkpoint shapes already read, by resolved path (nullopt: unreadable now), so the runs of one
/// experiment read each checkpoint header once.
using ShapeCache = std::map<std::string, std::optional<model::LlamaConfig>>;

/// Adds every problem of `spec` to `diagnostics`, which refers to `document` (the run's config).
void check_experiment(const pipeline::ExperimentSpec& spec, const config::Document& document,
                      config::Diagnostics& diagnostics, ShapeCache& shapes);

/// The positions of the keys that run-time checks name, by dotted path ("quant.weights.group_size"),
/// taken from `document`: kept in pipeline::ExperimentSpec::key_positions.
std::map<std::string, std::string> runtime_key_positions(const config::Document& document);

/// What each linear runs as under quant.execution: packed (format, K and its padding, whether the
/// input's activation quantizer is fused), one line per distinct answer with its linear count;
/// empty for simulated runs. `abq validate` prints it.
std::vector<std::string> packed_execution_notes(const pipeline::ExperimentSpec& spec, ShapeCache& shapes);

/// A problem with one key of the run's config.
struct KeyProblem {
  config::KeyPath key;
  std::string message;
  std::string hint;
};

/// Per-group weight specs whose group_size does not divide a linear's input size in `model`.
std::vector<KeyProblem> weight_group_problems(const pipeline::ExperimentSpec& spec, const model::LlamaConfig& model);

/// Throws abq::ConfigError listing weight_group_problems, each at its key's position in the file.
void require_weight_groups_fit(const pipeline::ExperimentSpec& spec, const model::LlamaConfig& model);

}  // namespace abq::runner
