// Hugging Face tokenizer.json loading. Supported: model.type "BPE" with a ByteLevel pre-tokenizer
// (GPT-2, LLaMA-3, Qwen2: -> BpeTokenizer, regexes taken from the file's Split/Digits steps) and
// model.type "BPE" with byte_fallback and a "▁" normalizer or Metaspace pre-tokenizer (LLaMA-1/2,
// Mistral: -> ByteFallbackBpeTokenizer). A tokenizer_config.json beside the file, when present,
// supplies bos_token / eos_token / add_bos_token, as transformers reads them.
#pragma once

#include <memory>
#include <string>

#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {

/// Throws abq::Error for a missing file, malformed JSON or an unsupported model / pre-tokenizer,
/// naming the file and listing what is supported.
std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path);

}  // namespace abq::tokenize
