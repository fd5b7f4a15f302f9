// GGUF export: a quantized model as one llama.cpp-style GGUF file. Linears quantized in groups of
// 32 map onto ggml's block types and are written from the quantizer's own integer codes:
//   w4g32 symmetric   -> Q4_0  (d = fp16(Δ), nibble = code + 8)
//   w4g32 asymmetric  -> Q4_1  (d = fp16(Δ), m = fp16(-z·Δ), nibble = code)
//   w8g32 symmetric   -> Q8_0  (d = fp16(Δ), i8 = code)
// Every other tensor (embeddings, norms, fp linears) is F32 (F16 for embeddings and linears when
// the export dtype is float16; norms stay F32 as llama.cpp expects). Q and K rows are interleaved as
// llama.cpp's converter does (io/gguf_config.h permute_qk_rows). Metadata: the llama.* hyper-
// parameters from the model config, general.quantization_version 2, and every other key of the
// source GGUF (tokenizer.*, general.name, ...) when the model was read from one.
//
// GGUF stores the scales (and Q4_1's minimum) as fp16, fake_quant keeps them in fp32: the exported
// weight d·code (+ m) differs from the simulated (code - z)·Δ by that rounding (at most 2^-11
// relative to Δ, plus as much of |m| for Q4_1). adopt_gguf_weights makes the model's fp weights
// the exported ones, so what is evaluated after an export is exactly what the file holds.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/io/gguf_dequant.h"
#include "framework/model/llama_model.h"
#include "framework/model/packed_linear.h"
#include "framework/quant/quant_spec.h"

namespace abq::pipeline {

/// Why `spec` on a weight [n, k] has no GGUF block type ("" when it has one).
std::string gguf_type_problem(const quant::QuantSpec& spec, int64_t n, int64_t k);
/// The block type of a spec without a gguf_type_problem.
io::GgmlType gguf_type(const quant::QuantSpec& spec);

/// A weight held as ggml blocks (one row of k / 32 blocks per output), kept on a linear beside its
/// simulated fake weight, as the packed kernel form is for kernel formats.
class GgufBlockLinear final : public model::PackedLinear {
 public:
  GgufBlockLinear(quant::QuantSpec spec, io::GgmlType type, int64_t n, int64_t k, std::vector<uint8_t> blocks);
  int64_t out_features() const override { return n_; }
  int64_t in_features() const override { return k_; }
  /// Through the dequantized weight (no ggml kernel here); a reference path, not a fast one.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) const override;
  /// d·code (+ m) per element, as io/gguf_dequant.h decodes the blocks.
  torch::Tensor dequantized() const override;
  int64_t resident_bytes() const override { return int64_t(blocks_.size()); }
  std::string describe() const override;

  io::GgmlType type() const { return type_; }
  const std::vector<uint8_t>& blocks() const { return blocks_; }

 private:
  quant::QuantSpec spec_;
  io::GgmlType type_;
  int64_t n_, k_;
  std::vector<uint8_t> blocks_;
};

/// The ggml blocks of a quantizer's result for `spec` (codes int32 [n, k]; scale, zero [n, k/32]
/// as quant/fake_quant.h lays them out). Throws abq::Error with gguf_type_problem's reason.
std::shared_ptr<const GgufBlockLinear> gguf_block_linear(const quant::QuantSpec& spec, const torch::Tensor& codes,
                                                         const torch::Tensor& scale, const torch::Tensor& zero);

/// Writes `model` to `path`. `weights`: the spec of every quantized weight site (site -> spec, as
/// QuantizationReport::weights). `source_gguf`: the GGUF the model was read from ("" for none),
/// whose non-hyperparameter metadata is copied. `dtype`: "float32" or "float16". Throws abq::Error
/// naming the site and its spec for a quantized linear without a GGUF type or without its blocks,
/// and for what llama's GGUF layout cannot hold (online transforms, norm biases, rope scaling, qwen2).
void export_gguf(const model::LlamaModel& model, const std::map<std::string, quant::QuantSpec>& weights,
                 const std::string& source_gguf, const std::string& path, const std::string& dtype = "float32");

/// Whether an `export:` path names a GGUF file (ends in ".gguf") rather than an HF folder.
bool is_gguf_export_path(const std::string& path);

/// Replaces the fp weight of every linear that holds GGUF blocks by their dequantized values (the
/// exported weight); returns the largest |change| over those weights (0 when there are none).
double adopt_gguf_weights(model::LlamaModel& model);

}  // namespace abq::pipeline
