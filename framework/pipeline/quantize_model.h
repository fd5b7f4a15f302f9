// Turning an fp model into the experiment's quantized model: corrections (with their fp-output
// check), bit allocation over the named sites, weight quantization, and activation quantizers
// installed as hooks at linear inputs and on Q/K/V. Returns per-site statistics for the store.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/model/llama_model.h"
#include "framework/pipeline/experiment_spec.h"
#include "framework/store/results_store.h"

namespace abq::pipeline {

struct QuantizationReport {
  std::vector<store::SiteRow> sites;      // every quantized site: weights and activations
  std::vector<store::MetricRow> checks;   // corrections' fp-output drift, one row per correction
  std::string setting;                    // W<w>A<a>KV<kv>[g<g>][*], evaluation-protocols.md §8.5
};

/// Quantizes `model` in place per `plan`. `calibration` holds token windows [1, T] for corrections,
/// static activation ranges and activation error statistics; it may be empty when nothing needs it
/// (an error names the component that does). `checkpoint_dir` holds per-block checkpoints of
/// block-wise calibration (GPTQ) so a killed run resumes at the next block; "" disables them.
QuantizationReport quantize_model(model::LlamaModel& model, const QuantPlanSpec& plan,
                                  const std::vector<torch::Tensor>& calibration,
                                  const std::string& checkpoint_dir = "");

/// W<w>A<a>KV<kv>[g<g>][*] from the default specs (bits 16 prints as 16).
std::string setting_id(const QuantPlanSpec& plan);

}  // namespace abq::pipeline
