// Turning an fp model into the experiment's quantized model: corrections (with their fp-output
// check), bit allocation over the named sites, weight quantization, and activation quantizers
// installed as hooks at linear inputs and on Q/K/V; with quant.execution: packed the quantized
// linears then run through the kernels (packed_execution.h). Returns per-site statistics for the store.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/core/stage_cache.h"
#include "framework/methods/allocations/plan_summary.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/experiment_spec.h"
#include "framework/store/results_store.h"
#include "framework/store/table.h"

namespace abq::pipeline {

struct QuantizationReport {
  std::vector<store::SiteRow> sites;      // every quantized site: weights and activations
  std::vector<store::MetricRow> checks;   // corrections' fp-output drift, one row per correction
  std::string setting;                    // methods::setting_label of the plan: W<w>A<a>KV<kv>[g<g>][*][ mixed]
  store::Table plan;                      // the site plan: site, role, bits, levels, granularity, group, storage
  methods::PlanSummary plan_summary;      // average weight bits with and without scale storage
  methods::AllocationRecord allocation;   // what a measuring allocation scored and chose (empty for uniform)
  store::Table calibration_blocks;        // block-wise calibration: one row per block (empty otherwise)
  // Every installed activation quantizer is token-local, so multiple-choice scoring may run a shared
  // context once (EvalContext::prefix_reuse, framework/model/kv_cache.h).
  bool prefix_reuse_exact = true;
  std::map<std::string, quant::QuantSpec> activations;  // enabled activation sites (for export)
  std::map<std::string, quant::QuantSpec> weights;      // enabled weight sites (for the GGUF export)
  store::Table packed;                    // quant.execution: packed: one row per packed linear (packed_execution.h)
  // The cached stages of quantization: "activation_stats" (corrections' per-channel abs-max) and
  // "fp_chain" (block-wise calibration's Y_fp): hit | miss | off | n/a and their seconds.
  std::map<std::string, StageUse> stages;
};

/// The allocation's plan for every site, then the experiment's per-site overrides (what
/// quantize_model quantizes with; `abq allocate` prints it). `record` (may be null) receives what a
/// measuring allocation scored and chose; `weights_digest` keys its cached measurements.
methods::SitePlan plan_sites(model::LlamaModel& model, const QuantPlanSpec& plan, const std::vector<methods::SiteInfo>& sites,
                             const std::vector<torch::Tensor>& calibration, const std::string& weights_digest,
                             methods::AllocationRecord* record);

/// Whether an activation quantizer's output for a token depends on that token alone: disabled,
/// static ranges, or dynamic per_token / per_group ranges. Dynamic per_tensor, per_head and
/// per_channel ranges are computed over all tokens of a forward.
bool token_local(const quant::QuantSpec& spec);

/// Quantizes `model` in place per `plan`. `calibration` holds token windows [1, T] for corrections,
/// static activation ranges and activation error statistics; it may be empty when nothing needs it
/// (an error names the component that does). `checkpoint_dir` holds per-block checkpoints of
/// block-wise calibration (GPTQ) so a killed run resumes at the next block; "" disables them.
/// `streams_on_host` keeps block-wise calibration's activation streams in CPU memory.
/// `weights_digest` (the model files' sha256) keys those checkpoints to the weights, so a model
/// replaced at the same path never resumes another model's blocks; "" hashes the tensors instead.
/// `stage_cache` (may be null) keeps what does not depend on the weight quantization (activation
/// statistics, the fp chain) across runs, keyed by `weights_digest` (required for caching), the
/// model's dtype and device, the corrections applied before the stage and the windows.
QuantizationReport quantize_model(model::LlamaModel& model, const QuantPlanSpec& plan,
                                  const std::vector<torch::Tensor>& calibration,
                                  const std::string& checkpoint_dir = "", bool streams_on_host = false,
                                  const std::string& weights_digest = "", const StageCache* stage_cache = nullptr);

}  // namespace abq::pipeline
