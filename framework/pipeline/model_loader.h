// Building the model and tokenizer a run asks for: a seeded random LLaMA (tests, smoke runs) or a
// checkpoint (GGUF file, HF safetensors folder), with the digests that go into provenance.
#pragma once

#include <memory>
#include <string>

#include "framework/model/llama_model.h"
#include "framework/pipeline/experiment_spec.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::pipeline {

struct LoadedModel {
  std::unique_ptr<model::LlamaModel> model;
  std::unique_ptr<tokenize::Tokenizer> tokenizer;
  std::string model_sha256;       // of the checkpoint file(s); for random models, of their recipe
  std::string tokenizer_sha256;   // of the tokenizer source
  std::string weights_note;       // what the weights are, for tables ("Q4_1-dequantized GGUF" ...)
};

/// Throws abq::Error naming the checkpoint and what is wrong with it.
LoadedModel load_model(const ExperimentSpec& spec);

/// The LlamaConfig of `model.source: random` (shapes only; ids and positions are set by load_model).
model::LlamaConfig random_model_config(const RandomModelSpec& random);

}  // namespace abq::pipeline
