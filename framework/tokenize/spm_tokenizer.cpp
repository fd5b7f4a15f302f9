#include "framework/tokenize/spm_tokenizer.h"

#include <cstdio>
#include <queue>

#include "framework/core/error.h"
#include "framework/tokenize/utf8.h"

namespace abq::tokenize {
namespace {

const char* const kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"

std::string escape_spaces(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == ' ') {
      out += kSpaceMark;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string unescape_spaces(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, 3, kSpaceMark) == 0) {
      out.push_back(' ');
      pos += 3;
    } else {
      out.push_back(text[pos++]);
    }
  }
  return out;
}

}  // namespace

SpmTokenizer::SpmTokenizer(SpmVocab vocab) : vocab_(std::move(vocab)), byte_tokens_(256, -1) {
  const auto n = static_cast<int64_t>(vocab_.tokens.size());
  if (n == 0) throw Error("SentencePiece vocabulary is empty; expected at least one token");
  if (static_cast<int64_t>(vocab_.scores.size()) != n) {
    throw Error(cat("SentencePiece vocabulary has ", n, " tokens but ", vocab_.scores.size(),
                    " scores; expected one score per token"));
  }
  if (!vocab_.token_types.empty() && static_cast<int64_t>(vocab_.token_types.size()) != n) {
    throw Error(cat("SentencePiece vocabulary has ", n, " tokens but ", vocab_.token_types.size(),
                    " token types; expected one type per token"));
  }
  for (const auto* field : {&vocab_.bos, &vocab_.eos, &vocab_.unk}) {
    if (*field >= n) {
      throw Error(cat("SentencePiece special token id ", *field, " is out of range; vocabulary has ", n,
                      " tokens"));
    }
  }
  std::vector<std::pair<std::string, int64_t>> specials;
  token_to_id_.reserve(vocab_.tokens.size());
  for (int64_t id = 0; id < n; ++id) {
    token_to_id_.emplace(vocab_.tokens[id], id);
    const TokenType t = type(id);
    if (is_literal_special(t)) specials.emplace_back(vocab_.tokens[id], id);
    if (t == TokenType::kUnknown && vocab_.unk < 0) vocab_.unk = id;
  }
  specials_ = SpecialTokenMatcher(specials);
  cut_at_spaces_ = token_to_id_.count(kSpaceMark) != 0 && mark_only_starts_pieces(vocab_.tokens, kSpaceMark);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    const auto it = token_to_id_.find(name);
    if (it != token_to_id_.end()) byte_tokens_[b] = it->second;
  }
}

TokenType SpmTokenizer::type(int64_t id) const {
  return vocab_.token_types.empty() ? TokenType::kNormal : vocab_.token_types[id];
}

int64_t SpmTokenizer::find_mergeable(const std::string& piece) const {
  const auto it = token_to_id_.find(piece);
  if (it == token_to_id_.end()) return -1;
  // Only text pieces take part in merges (sentencepiece skips control, unknown, unused and byte pieces).
  const TokenType t = type(it->second);
  return t == TokenType::kNormal || t == TokenType::kUserDefined ? it->second : -1;
}

int64_t SpmTokenizer::byte_token(unsigned char byte) const {
  if (byte_tokens_[byte] >= 0) return byte_tokens_[byte];
  const auto it = token_to_id_.find(std::string(1, static_cast<char>(byte)));
  return it != token_to_id_.end() ? it->second : vocab_.unk;
}

void SpmTokenizer::encode_fragment(const std::string& escaped, std::vector<int64_t>& out) const {
  struct Symbol {
    size_t begin;
    size_t size;
    int prev;
    int next;
  };
  std::vector<Symbol> sym;
  for (size_t pos = 0; pos < escaped.size();) {
    const size_t len = std::min(utf8_sequence_length(static_cast<unsigned char>(escaped[pos])), escaped.size() - pos);
    const int index = static_cast<int>(sym.size());
    sym.push_back({pos, len, index - 1, -1});
    if (index > 0) sym[index - 1].next = index;
    pos += len;
  }
  if (sym.empty()) return;

  struct Bigram {
    float score;
    int left;
    int right;
    size_t size;
  };
  // Highest score first; leftmost first on ties (llama.cpp llm_bigram_spm::comparator).
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string text = escaped.substr(sym[left].begin, sym[left].size + sym[right].size);
    const int64_t id = find_mergeable(text);
    if (id < 0) return;
    queue.push({vocab_.scores[id], left, right, text.size()});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = sym[b.left];
    Symbol& right = sym[b.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != b.size) continue;  // stale
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) sym[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  // Merges only ever form vocabulary pieces, so a final symbol is a piece unless it is a single
  // character the vocabulary lacks: that one becomes <0xXX> byte tokens (llama.cpp resegment).
  bool previous_unknown = false;
  for (int i = 0; i >= 0; i = sym[i].next) {
    const std::string text = escaped.substr(sym[i].begin, sym[i].size);
    const int64_t id = find_mergeable(text);
    if (id >= 0) {
      out.push_back(id);
      previous_unknown = false;
      continue;
    }
    if (vocab_.one_unk_per_unknown_run && byte_tokens_[static_cast<unsigned char>(text[0])] < 0) {
      // libsentencepiece (no byte_fallback): a run of unknown characters becomes one <unk>.
      if (vocab_.unk >= 0 && !previous_unknown) out.push_back(vocab_.unk);
      previous_unknown = true;
      continue;
    }
    previous_unknown = false;
    for (unsigned char c : text) {
      const int64_t byte_id = byte_token(c);
      if (byte_id >= 0) out.push_back(byte_id);
    }
  }
}

std::vector<int64_t> SpmTokenizer::encode(const std::string& text, bool add_bos) const {
  std::vector<int64_t> out;
  if (add_bos && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  bool after_special = true;  // llama.cpp: a dummy prefix at the start and after each special token
  for (const auto& fragment : specials_.split(text)) {
    if (fragment.id >= 0) {
      out.push_back(fragment.id);
      after_special = true;
      continue;
    }
    std::string raw = vocab_.add_dummy_prefix && after_special ? " " + fragment.text : fragment.text;
    const std::string escaped = escape_spaces(raw);
    if (cut_at_spaces_) {
      for (const auto& part : cut_before_mark(escaped, kSpaceMark)) encode_fragment(part, out);
    } else {
      encode_fragment(escaped, out);
    }
    after_special = false;
  }
  return out;
}

std::string SpmTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  bool first_text = true;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw Error(cat("token id ", id, " is out of range for ", name(), "; expected 0..", vocab_size() - 1));
    }
    if (id == vocab_.bos || id == vocab_.eos) continue;
    const TokenType t = type(id);
    if (t == TokenType::kUnknown && !vocab_.unk_surface.empty()) {
      out += vocab_.unk_surface;
      first_text = false;
      continue;
    }
    std::string piece;
    if (t == TokenType::kByte) {
      unsigned int value = 0;
      std::sscanf(vocab_.tokens[id].c_str(), "<0x%02X>", &value);
      piece = std::string(1, static_cast<char>(value));
    } else if (t == TokenType::kControl) {
      piece = vocab_.tokens[id];
    } else {
      piece = unescape_spaces(vocab_.tokens[id]);
    }
    // sentencepiece drops the dummy prefix's space from the first piece of the text.
    if (first_text && vocab_.add_dummy_prefix && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    if (t != TokenType::kControl) first_text = false;
    out += piece;
  }
  return out;
}

std::string SpmTokenizer::name() const { return cat("spm(", vocab_.tokens.size(), " tokens)"); }

}  // namespace abq::tokenize
