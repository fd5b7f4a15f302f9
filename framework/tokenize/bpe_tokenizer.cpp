#include "framework/tokenize/bpe_tokenizer.h"

#include "framework/core/error.h"
#include "framework/tokenize/byte_unicode.h"
#include "framework/tokenize/utf8.h"

namespace abq::tokenize {
namespace {

std::vector<std::string> patterns_for(const BpeVocab& vocab) {
  return vocab.pre_patterns.empty() ? pre_tokenizer_patterns(vocab.pre_type) : vocab.pre_patterns;
}

}  // namespace

std::pair<std::string, std::string> split_merge_line(const std::string& line) {
  const size_t space = line.find(' ', 1);  // a merge's left side is never empty
  if (space == std::string::npos || space + 1 >= line.size()) {
    throw Error(cat("BPE merge '", line, "' is malformed; expected two tokens separated by one space"));
  }
  return {line.substr(0, space), line.substr(space + 1)};
}

BpeTokenizer::BpeTokenizer(BpeVocab vocab) : vocab_(std::move(vocab)), splitter_(patterns_for(vocab_)) {
  const auto n = static_cast<int64_t>(vocab_.tokens.size());
  if (n == 0) throw Error("byte-level BPE vocabulary is empty; expected at least one token");
  if (!vocab_.token_types.empty() && static_cast<int64_t>(vocab_.token_types.size()) != n) {
    throw Error(cat("byte-level BPE vocabulary has ", n, " tokens but ", vocab_.token_types.size(),
                    " token types; expected one type per token"));
  }
  for (const auto* field : {&vocab_.bos, &vocab_.eos}) {
    if (*field >= n) {
      throw Error(cat("byte-level BPE special token id ", *field, " is out of range; vocabulary has ", n,
                      " tokens"));
    }
  }
  std::vector<std::pair<std::string, int64_t>> specials;
  token_to_id_.reserve(vocab_.tokens.size());
  for (int64_t id = 0; id < n; ++id) {
    token_to_id_.emplace(vocab_.tokens[id], id);  // the lowest id wins for duplicate texts
    if (is_literal_special(type(id))) specials.emplace_back(vocab_.tokens[id], id);
  }
  specials_ = SpecialTokenMatcher(specials);
  for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
    ranks_.add(vocab_.merges[rank].first, vocab_.merges[rank].second, static_cast<int>(rank));
  }
}

TokenType BpeTokenizer::type(int64_t id) const {
  return vocab_.token_types.empty() ? TokenType::kNormal : vocab_.token_types[id];
}

int64_t BpeTokenizer::find(const std::string& token_text) const {
  const auto it = token_to_id_.find(token_text);
  return it == token_to_id_.end() ? -1 : it->second;
}

void BpeTokenizer::encode_piece(const std::string& piece, std::vector<int64_t>& out) const {
  const std::string word = bytes_to_unicode_text(piece);
  if (vocab_.ignore_merges) {
    const int64_t whole = find(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  for (const auto& symbol : bpe_merge(utf8_chars(word), ranks_)) {
    const int64_t id = find(symbol);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // A merge result missing from the vocabulary: fall back to its characters, as llama.cpp does.
    for (const auto& ch : utf8_chars(symbol)) {
      const int64_t char_id = find(ch);
      if (char_id >= 0) out.push_back(char_id);
    }
  }
}

std::vector<int64_t> BpeTokenizer::encode(const std::string& text, bool add_bos) const {
  std::vector<int64_t> out;
  if (add_bos && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  for (const auto& fragment : specials_.split(text)) {
    if (fragment.id >= 0) {
      out.push_back(fragment.id);
      continue;
    }
    for (const auto& piece : splitter_.split(fragment.text)) encode_piece(piece, out);
  }
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw Error(cat("token id ", id, " is out of range for ", name(), "; expected 0..", vocab_size() - 1));
    }
    if (id == vocab_.bos || id == vocab_.eos) continue;
    const TokenType t = type(id);
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
      out += vocab_.tokens[id];  // added tokens hold raw text, not the byte-level form
    } else {
      out += unicode_text_to_bytes(vocab_.tokens[id]);
    }
  }
  return out;
}

std::string BpeTokenizer::name() const {
  const std::string pre = vocab_.pre_patterns.empty() ? vocab_.pre_type : "custom";
  return cat("bpe(", pre, ", ", vocab_.tokens.size(), " tokens)");
}

}  // namespace abq::tokenize
