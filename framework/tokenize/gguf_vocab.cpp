#include "framework/tokenize/gguf_vocab.h"

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::tokenize {
namespace {

const char* const kModel = "tokenizer.ggml.model";
const char* const kPre = "tokenizer.ggml.pre";
const char* const kTokens = "tokenizer.ggml.tokens";
const char* const kScores = "tokenizer.ggml.scores";
const char* const kTypes = "tokenizer.ggml.token_type";
const char* const kMerges = "tokenizer.ggml.merges";
const char* const kBos = "tokenizer.ggml.bos_token_id";
const char* const kEos = "tokenizer.ggml.eos_token_id";
const char* const kUnk = "tokenizer.ggml.unknown_token_id";
const char* const kAddBos = "tokenizer.ggml.add_bos_token";
const char* const kAddSpacePrefix = "tokenizer.ggml.add_space_prefix";

std::vector<TokenType> read_types(const io::GgufFile& file, size_t n_tokens) {
  std::vector<TokenType> types;
  if (!file.has(kTypes)) return types;
  for (int64_t t : file.get_int_array(kTypes)) {
    if (t < 0 || t > static_cast<int64_t>(TokenType::kByte)) {
      throw Error(cat(kTypes, " holds ", t, "; expected a token type 0..6"));
    }
    types.push_back(static_cast<TokenType>(t));
  }
  if (types.size() != n_tokens) {
    throw Error(cat(kTypes, " has ", types.size(), " entries but ", kTokens, " has ", n_tokens));
  }
  return types;
}

int64_t optional_id(const io::GgufFile& file, const char* key, int64_t fallback) {
  return file.has(key) ? file.get_int(key) : fallback;
}

}  // namespace

BpeVocab bpe_vocab_from_gguf(const io::GgufFile& file) {
  BpeVocab vocab;
  vocab.tokens = file.get_string_array(kTokens);
  vocab.token_types = read_types(file, vocab.tokens.size());
  for (const auto& line : file.get_string_array(kMerges)) vocab.merges.push_back(split_merge_line(line));
  // No tokenizer.ggml.pre (older conversions, e.g. GPT-NeoX): the Hugging Face ByteLevel default,
  // which is GPT-2's pattern (llama.cpp would fall back to its own "default" list here).
  vocab.pre_type = file.has(kPre) ? file.get_string(kPre) : "gpt-2";
  pre_tokenizer_patterns(vocab.pre_type);  // fail early with the list of supported names
  // llama.cpp: LLaMA-3 ignores merges for whole-vocabulary pieces and adds BOS by default.
  const bool llama3 = vocab.pre_type == "llama-bpe" || vocab.pre_type == "llama3" || vocab.pre_type == "llama-v3";
  vocab.ignore_merges = llama3;
  vocab.add_bos = file.has(kAddBos) ? file.get_bool(kAddBos) : llama3;
  vocab.bos = optional_id(file, kBos, -1);
  vocab.eos = optional_id(file, kEos, -1);
  return vocab;
}

SpmVocab spm_vocab_from_gguf(const io::GgufFile& file) {
  SpmVocab vocab;
  vocab.tokens = file.get_string_array(kTokens);
  for (double s : file.get_float_array(kScores)) vocab.scores.push_back(static_cast<float>(s));
  if (vocab.scores.size() != vocab.tokens.size()) {
    throw Error(cat(kScores, " has ", vocab.scores.size(), " entries but ", kTokens, " has ", vocab.tokens.size()));
  }
  vocab.token_types = read_types(file, vocab.tokens.size());
  // llama.cpp defaults for SPM: BOS 1, EOS 2, UNK 0, add BOS, add a space prefix.
  vocab.bos = optional_id(file, kBos, 1);
  vocab.eos = optional_id(file, kEos, 2);
  vocab.unk = optional_id(file, kUnk, 0);
  vocab.add_bos = file.has(kAddBos) ? file.get_bool(kAddBos) : true;
  vocab.add_dummy_prefix = file.has(kAddSpacePrefix) ? file.get_bool(kAddSpacePrefix) : true;
  return vocab;
}

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const io::GgufFile& file) {
  try {
    if (!file.has(kModel)) throw Error(cat("missing key ", kModel, "; this GGUF file holds no vocabulary"));
    const std::string model = file.get_string(kModel);
    if (model == "llama") return std::make_unique<SpmTokenizer>(spm_vocab_from_gguf(file));
    if (model == "gpt2") return std::make_unique<BpeTokenizer>(bpe_vocab_from_gguf(file));
    const std::vector<std::string> supported = {"gpt2", "llama"};
    std::string message = cat(kModel, " is '", model, "'; supported: ", join(supported),
                              " (\"llama\" = SentencePiece, \"gpt2\" = byte-level BPE)");
    const std::string guess = closest_match(model, supported);
    if (!guess.empty()) message += cat("; did you mean '", guess, "'?");
    throw Error(message);
  } catch (Error& e) {
    e.with_context(cat("while reading the tokenizer of ", file.path()));
    throw;
  }
}

}  // namespace abq::tokenize
