// quant.execution: packed — the quantized model runs through the kernels. After weight
// quantization (which keeps every packable weight's codes on its linear, model::Linear::packed)
// and the activation quantizers, each quantized linear drops its fp (fake-quantized) weight, so
// it runs packed; an activation quantizer at its input that the kernels' per-token quantizer
// computes (packed/kernel_format.h) moves from its hook into the kernel call. Other activation
// quantizers stay hooks and the linear runs weight-only on their output.
#pragma once

#include <map>
#include <string>

#include "framework/model/llama_model.h"
#include "framework/quant/quant_spec.h"
#include "framework/store/table.h"

namespace abq::pipeline {

/// The execution modes of quant.execution.
inline constexpr const char* kExecutionSimulated = "simulated";
inline constexpr const char* kExecutionPacked = "packed";

/// Switches `model` to packed execution per `allocation` (site -> spec, as quantize_model plans
/// it). Throws abq::Error naming the first quantized linear that holds no packed weight and why.
/// Returns one row per packed linear: site, format, layout, K, padded K, fused activation
/// quantizer, resident bytes.
store::Table execute_packed(model::LlamaModel& model, const std::map<std::string, quant::QuantSpec>& allocation);

/// After the activation quantizers of an exported folder are installed as hooks
/// (export_model.h), removes the hooks at the inputs of packed linears that quantize their input
/// in the kernel call themselves (a packed checkpoint, packed_checkpoint.h).
void drop_fused_activation_hooks(model::LlamaModel& model);

}  // namespace abq::pipeline
