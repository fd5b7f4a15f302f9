// Tokenizer from the vocabulary stored in a GGUF file's tokenizer.ggml.* keys, read the way
// llama.cpp's llama_vocab::load does (llama-vocab.cpp): "llama" -> SpmTokenizer, "gpt2" ->
// BpeTokenizer with the pre-tokenizer named by tokenizer.ggml.pre. Lives in abq_tokenize_gguf
// so that abq_tokenize itself does not depend on abq_io.
#pragma once

#include <memory>

#include "framework/io/gguf.h"
#include "framework/tokenize/bpe_tokenizer.h"
#include "framework/tokenize/spm_tokenizer.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {

/// Throws abq::Error naming the file and key for a missing or inconsistent vocabulary, and listing
/// the supported tokenizer.ggml.model / tokenizer.ggml.pre values for unknown ones.
std::unique_ptr<Tokenizer> tokenizer_from_gguf(const io::GgufFile& file);

/// The vocabulary parts, for callers that need them without a tokenizer.
BpeVocab bpe_vocab_from_gguf(const io::GgufFile& file);
SpmVocab spm_vocab_from_gguf(const io::GgufFile& file);

}  // namespace abq::tokenize
