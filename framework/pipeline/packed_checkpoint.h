// Packed checkpoints: what `export:` writes for a run with quant.execution: packed, and how
// `abq eval --model DIR` reads it back to run packed. The folder is an HF-style folder whose
// quantized linears are stored as their codes at real size:
//   model.safetensors  fp tensors under HF names (embeddings, norms, lm_head, unquantized linears,
//                      biases) and, per packed linear `model.layers.{i}.{linear}`:
//                        .qweight  I32 [words]: the uint32 words of its layout (packed_weight.h)
//                        .scales   F32 [N, groups]
//                        .qzeros   I32 [N, groups] (unsigned formats only)
//   abq_packed.json    the format manifest: {"format": "abq_packed", "version": 1, "backend": ...,
//                      "linears": {"layers.0.self_attn.q_proj": {"spec": {QuantSpec}, "kernel_format":
//                      {"bits", "levels", "signed", "group_size"}, "layout": "bitplane", "n", "k",
//                      "k_padded", "padding_exact", "activations": {QuantSpec fused into the call}}}}
//   config.json, abq_quant.json as export_model.h describes them.
// The reader checks each linear's manifest entry against the adapter (the kernel format of its
// spec) and its tensors' dtypes and sizes before any is used.
#pragma once

#include <string>
#include <vector>

#include "framework/io/safetensors_writer.h"
#include "framework/model/llama_model.h"

namespace abq::pipeline {

/// The manifest's file name inside an exported folder.
inline constexpr const char* kPackedManifest = "abq_packed.json";

/// Whether `model` holds linears that run packed (only their packed form is held).
bool has_packed_linears(const model::LlamaModel& model);

/// Appends the tensors of every packed linear and returns the manifest text (abq_packed.json).
std::string packed_tensors(const model::LlamaModel& model, std::vector<io::TensorToWrite>& tensors);

/// Whether a tensor name is one of a packed linear's (.qweight / .scales / .qzeros).
bool is_packed_tensor_name(const std::string& name);

/// Whether `dir` is a packed checkpoint (holds abq_packed.json).
bool is_packed_folder(const std::string& dir);

/// Installs every packed linear of the folder into `weights` (linear.packed, fp weight left
/// undefined). Errors name the file, the linear and the field at fault.
void read_packed_linears(const std::string& dir, const model::LlamaConfig& config, model::LlamaWeights& weights);

}  // namespace abq::pipeline
