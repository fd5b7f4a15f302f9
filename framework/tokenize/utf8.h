// UTF-8 helpers shared by the tokenizers: splitting into characters and code point conversion.
// Invalid bytes are kept as one-byte "characters" so that no input byte is ever dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abq::tokenize {

/// Length of the UTF-8 sequence starting with `lead` (1 for continuation/invalid bytes).
size_t utf8_sequence_length(unsigned char lead);

/// `text` split into characters; a truncated or invalid sequence yields single bytes.
std::vector<std::string> utf8_chars(const std::string& text);

/// UTF-8 encoding of code point `cp`.
std::string utf8_encode(uint32_t cp);

/// Code point of the character starting at text[pos]; sets `length` to the bytes consumed.
/// Invalid sequences decode as the lead byte's value with length 1.
uint32_t utf8_decode(const std::string& text, size_t pos, size_t& length);

}  // namespace abq::tokenize

namespace abq::tokenize {

/// Whether no token in `tokens` holds `mark` right after a different character, so that text cut
/// before every `mark` that follows another character can be merged piece by piece with the same
/// result as merged whole (no merge can span a cut). True for LLaMA/Mistral vocabularies ("▁").
bool mark_only_starts_pieces(const std::vector<std::string>& tokens, const std::string& mark);

/// `text` cut before every `mark` that follows a character other than `mark`.
std::vector<std::string> cut_before_mark(const std::string& text, const std::string& mark);

}  // namespace abq::tokenize
