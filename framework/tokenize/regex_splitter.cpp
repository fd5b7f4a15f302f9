#include "framework/tokenize/regex_splitter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <map>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/tokenize/utf8.h"

namespace abq::tokenize {
namespace {

// GPT-2 encoder.py pattern plus the trailing `\s+` of HF's ByteLevel pre-tokenizer.
const char* const kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// LLaMA-3 tokenizer.json Split pattern (tiktoken cl100k).
const char* const kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2 tokenizer.json Split pattern: as LLaMA-3 but one digit per piece.
const char* const kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const std::map<std::string, std::vector<std::string>>& pre_table() {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"gpt-2", {kGpt2}},
      {"gpt2", {kGpt2}},
      {"llama-bpe", {kLlama3}},
      {"llama3", {kLlama3}},
      {"llama-v3", {kLlama3}},
      {"qwen2", {kQwen2}},
      // HF Sequence[Digits(individual_digits=true), ByteLevel] (SmolLM, StarCoder).
      {"smollm", {R"(\p{N})", kGpt2}},
      {"starcoder", {R"(\p{N})", kGpt2}},
      // llama.cpp LLAMA_VOCAB_PRE_TYPE_DEFAULT.
      {"default", {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
  };
  return table;
}

}  // namespace

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

RegexSplitter::RegexSplitter(const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    auto compiled = std::make_unique<Compiled>();
    compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code, &error_offset,
                                   nullptr);
    if (compiled->code == nullptr) {
      PCRE2_UCHAR buffer[256];
      pcre2_get_error_message(error_code, buffer, sizeof(buffer));
      throw Error(cat("pre-tokenizer pattern does not compile at offset ", error_offset, ": ",
                      reinterpret_cast<const char*>(buffer), "\n  pattern: ", pattern));
    }
    pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // optional speed-up; interpreter otherwise
    compiled_.push_back(std::move(compiled));
  }
}

RegexSplitter::~RegexSplitter() = default;
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;

std::vector<std::string> RegexSplitter::split(const std::string& text) const {
  std::vector<std::string> pieces{text};
  if (text.empty()) return {};
  for (const auto& compiled : compiled_) {
    std::vector<std::string> next;
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(compiled->code, nullptr);
    for (const auto& piece : pieces) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t gap_start = 0;
      size_t offset = 0;
      while (offset < piece.size()) {
        const int rc = pcre2_match(compiled->code, subject, piece.size(), offset, 0, match, nullptr);
        if (rc < 0) break;  // PCRE2_ERROR_NOMATCH (invalid UTF-8 also just fails to match)
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
        const size_t begin = ovector[0];
        const size_t end = ovector[1];
        if (end == begin) {  // empty match: none of our patterns produce one, but never loop
          offset = begin + utf8_sequence_length(static_cast<unsigned char>(piece[begin]));
          continue;
        }
        if (begin > gap_start) next.push_back(piece.substr(gap_start, begin - gap_start));
        next.push_back(piece.substr(begin, end - begin));
        gap_start = end;
        offset = end;
      }
      if (gap_start < piece.size()) next.push_back(piece.substr(gap_start));
    }
    pcre2_match_data_free(match);
    pieces = std::move(next);
  }
  return pieces;
}

std::vector<std::string> supported_pre_types() {
  std::vector<std::string> names;
  for (const auto& entry : pre_table()) names.push_back(entry.first);
  return names;
}

std::vector<std::string> pre_tokenizer_patterns(const std::string& pre_type) {
  const auto it = pre_table().find(pre_type);
  if (it != pre_table().end()) return it->second;
  std::string message = cat("unknown byte-level BPE pre-tokenizer '", pre_type, "'; supported: ",
                            join(supported_pre_types()));
  const std::string guess = closest_match(pre_type, supported_pre_types());
  if (!guess.empty()) message += cat(" (did you mean '", guess, "'?)");
  throw Error(message);
}

}  // namespace abq::tokenize
