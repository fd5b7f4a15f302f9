// Exporting a quantized model as an HF-style folder, and re-installing its activation quantizers:
//   model.safetensors  every weight (fake-quantized values) as F32 or F16, HF tensor names
//   config.json        the LlamaConfig in transformers' keys (read back by io/hf_config.h)
//   abq_quant.json     {"format": "abq_quant", "version": 1, "setting": "W4A8KV16",
//                       "activations": {"layers.0.self_attn.q_proj.input": {"bits": 8, ...}, ...}}
// A run with quant.execution: packed writes its quantized linears as codes, scales and zero-points
// at their real size instead, with the format manifest abq_packed.json (packed_checkpoint.h);
// loading that folder runs them packed.
// Weights alone reproduce a weight-only run; `abq eval` on the folder also reads abq_quant.json
// and installs the same dynamic activation quantizers, so it reproduces the run's metrics.
#pragma once

#include <map>
#include <string>

#include "framework/model/llama_model.h"
#include "framework/quant/quant_spec.h"

namespace abq::pipeline {

struct ExportedQuant {
  std::string setting;                                  // W<w>A<a>KV<kv>... of the run
  std::map<std::string, quant::QuantSpec> activations;  // enabled activation sites
};

/// Writes `dir` (created if needed; files replaced). `dtype`: "float32" or "float16". Throws
/// abq::Error for what an HF folder cannot hold: online transforms (rotations, AffineQuant) and
/// static activation ranges (their calibrated ranges are not part of the specs).
void export_model(const model::LlamaModel& model, const ExportedQuant& quant, const std::string& dir,
                  const std::string& dtype = "float32");

/// abq_quant.json of an exported folder; false when `dir` has none. Errors name the file and key.
bool read_exported_quant(const std::string& dir, ExportedQuant& out);

/// Installs a fake-quantizing hook at every site of `activations` (dynamic ranges).
void install_activation_specs(model::LlamaModel& model, const std::map<std::string, quant::QuantSpec>& activations);

}  // namespace abq::pipeline
