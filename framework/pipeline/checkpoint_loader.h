// Checkpoints into LlamaWeights: the one place that maps Hugging Face tensor names onto the
// model's structs and turns io/'s float buffers into LibTorch tensors.
//   GGUF: dequantized to float32, Q/K rows un-permuted (llama.cpp's converter interleaves them).
//   HF:   config.json + safetensors (single or sharded), F32 / F16 / BF16; also streamed: blocks
//         read on demand from the mapping (model.streamed: true).
#pragma once

#include <functional>
#include <string>

#include <torch/torch.h>

#include "framework/model/llama_model.h"

namespace abq::io { class GgufFile; }

namespace abq::pipeline {

/// Every tensor of the model from a GGUF file; throws abq::Error naming a missing or misshapen tensor.
model::LlamaWeights weights_from_gguf(const io::GgufFile& file, const model::LlamaConfig& config,
                                      torch::ScalarType dtype);

/// Every tensor from an HF folder (or file) of safetensors; names for which `skip` returns true are
/// left to the caller (a packed checkpoint's codes, packed_checkpoint.h).
model::LlamaWeights weights_from_safetensors(const std::string& path, const model::LlamaConfig& config,
                                             torch::ScalarType dtype,
                                             const std::function<bool(const std::string&)>& skip = {});

/// A streamed model's weights: the resident tensors (embed_tokens, norm, lm_head; layers empty)
/// and a source that converts one decoder block at a time out of the memory-mapped checkpoint and,
/// on release, gives that block's mapped pages back (madvise), so RSS stays at one block.
struct StreamedWeights {
  model::LlamaWeights resident;
  model::BlockSource blocks;
};

/// Opens an HF folder (or file) of safetensors for streaming; the checkpoint stays mapped for as
/// long as the returned source lives. Only header and resident tensors are read here.
StreamedWeights streamed_weights_from_safetensors(const std::string& path, const model::LlamaConfig& config,
                                                 torch::ScalarType dtype);

}  // namespace abq::pipeline
