#include "framework/tokenize/byte_fallback_bpe_tokenizer.h"

#include <cstdio>

#include "framework/core/error.h"
#include "framework/tokenize/utf8.h"

namespace abq::tokenize {
namespace {

const std::string kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"

}  // namespace

ByteFallbackBpeTokenizer::ByteFallbackBpeTokenizer(ByteFallbackBpeVocab vocab)
    : vocab_(std::move(vocab)), byte_tokens_(256, -1) {
  const auto n = static_cast<int64_t>(vocab_.tokens.size());
  if (n == 0) throw Error("BPE vocabulary is empty; expected at least one token");
  if (!vocab_.token_types.empty() && static_cast<int64_t>(vocab_.token_types.size()) != n) {
    throw Error(cat("BPE vocabulary has ", n, " tokens but ", vocab_.token_types.size(),
                    " token types; expected one type per token"));
  }
  for (const auto* field : {&vocab_.bos, &vocab_.eos, &vocab_.unk}) {
    if (*field >= n) {
      throw Error(cat("BPE special token id ", *field, " is out of range; vocabulary has ", n, " tokens"));
    }
  }
  std::vector<std::pair<std::string, int64_t>> specials;
  for (int64_t id = 0; id < n; ++id) {
    token_to_id_.emplace(vocab_.tokens[id], id);
    if (is_literal_special(type(id))) specials.emplace_back(vocab_.tokens[id], id);
  }
  specials_ = SpecialTokenMatcher(specials);
  cut_at_spaces_ = token_to_id_.count(kSpaceMark) != 0 && mark_only_starts_pieces(vocab_.tokens, kSpaceMark);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    const auto it = token_to_id_.find(name);
    if (it != token_to_id_.end()) byte_tokens_[b] = it->second;
  }
  for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
    ranks_.add(vocab_.merges[rank].first, vocab_.merges[rank].second, static_cast<int>(rank));
  }
}

TokenType ByteFallbackBpeTokenizer::type(int64_t id) const {
  return vocab_.token_types.empty() ? TokenType::kNormal : vocab_.token_types[id];
}

void ByteFallbackBpeTokenizer::encode_fragment(const std::string& normalized, std::vector<int64_t>& out) const {
  if (vocab_.ignore_merges) {
    const auto whole = token_to_id_.find(normalized);
    if (whole != token_to_id_.end()) {
      out.push_back(whole->second);
      return;
    }
  }
  if (!cut_at_spaces_) {
    encode_part(normalized, out);
    return;
  }
  for (const auto& part : cut_before_mark(normalized, kSpaceMark)) encode_part(part, out);
}

void ByteFallbackBpeTokenizer::encode_part(const std::string& normalized, std::vector<int64_t>& out) const {
  // Initial symbols: characters in the vocabulary, else their byte tokens, else <unk>
  // (tokenizers models/bpe/model.rs merge_word).
  std::vector<std::string> symbols;
  for (const auto& ch : utf8_chars(normalized)) {
    if (token_to_id_.count(ch) != 0) {
      symbols.push_back(ch);
      continue;
    }
    bool all_bytes = vocab_.byte_fallback;
    for (unsigned char c : ch) all_bytes = all_bytes && byte_tokens_[c] >= 0;
    if (all_bytes) {
      for (unsigned char c : ch) symbols.push_back(vocab_.tokens[byte_tokens_[c]]);
      continue;
    }
    if (vocab_.unk < 0) {
      throw Error(cat("character '", ch, "' is not in the vocabulary of ", name(),
                      ", which has neither byte fallback tokens nor an unknown token"));
    }
    symbols.push_back(vocab_.tokens[vocab_.unk]);
  }
  bool previous_unk = false;
  for (const auto& symbol : bpe_merge(symbols, ranks_)) {
    const auto it = token_to_id_.find(symbol);
    const int64_t id = it != token_to_id_.end() ? it->second : vocab_.unk;
    const bool is_unk = id == vocab_.unk;
    if (!(is_unk && previous_unk && vocab_.fuse_unk)) out.push_back(id);
    previous_unk = is_unk;
  }
}

std::vector<int64_t> ByteFallbackBpeTokenizer::encode(const std::string& text, bool add_bos) const {
  std::vector<int64_t> out;
  if (add_bos && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  bool first = true;
  for (const auto& fragment : specials_.split(text)) {
    const bool at_start = first;
    first = false;
    if (fragment.id >= 0) {
      out.push_back(fragment.id);
      continue;
    }
    // Normalizer, per fragment between special tokens: Prepend("▁") then Replace(" ", "▁").
    const bool prepend = vocab_.prepend_space && (at_start || !vocab_.prepend_first_only);
    std::string normalized = prepend ? kSpaceMark : std::string();
    for (char c : fragment.text) {
      if (c == ' ') {
        normalized += kSpaceMark;
      } else {
        normalized.push_back(c);
      }
    }
    encode_fragment(normalized, out);
  }
  return out;
}

std::string ByteFallbackBpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  // Decoder: Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0).
  std::string out;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw Error(cat("token id ", id, " is out of range for ", name(), "; expected 0..", vocab_size() - 1));
    }
    if (id == vocab_.bos || id == vocab_.eos) continue;
    const std::string& piece = vocab_.tokens[id];
    unsigned int value = 0;
    if (type(id) == TokenType::kByte && std::sscanf(piece.c_str(), "<0x%02X>", &value) == 1) {
      out.push_back(static_cast<char>(value));
      continue;
    }
    size_t pos = 0;
    while (pos < piece.size()) {
      if (piece.compare(pos, kSpaceMark.size(), kSpaceMark) == 0) {
        out.push_back(' ');
        pos += kSpaceMark.size();
      } else {
        out.push_back(piece[pos++]);
      }
    }
  }
  if (vocab_.prepend_space && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

std::string ByteFallbackBpeTokenizer::name() const {
  return cat("bpe-byte-fallback(", vocab_.tokens.size(), " tokens)");
}

}  // namespace abq::tokenize
