// One entry point for tokenizer files that need no other library: a tokenizer.json, a sentencepiece
// tokenizer.model, or a model directory holding one of them. GGUF vocabularies go through
// tokenizer_from_gguf (gguf_vocab.h, library abq_tokenize_gguf).
#pragma once

#include <memory>
#include <string>

#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {

/// `path`: a .json file (Hugging Face), a .model file (sentencepiece), or a directory with
/// tokenizer.json (preferred) or tokenizer.model. Throws abq::Error listing what is accepted.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace abq::tokenize
