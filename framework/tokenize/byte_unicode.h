// GPT-2's byte <-> unicode table: byte-level BPE vocabularies store every byte as a printable code
// point ("Ġ" = U+0120 = byte 0x20). Matches `bytes_to_unicode()` in openai/gpt-2 encoder.py.
#pragma once

#include <cstdint>
#include <string>

namespace abq::tokenize {

/// UTF-8 text of the code point standing for `byte`.
const std::string& byte_to_unicode(uint8_t byte);

/// Every byte of `raw` replaced by its code point (the form merges and vocab entries use).
std::string bytes_to_unicode_text(const std::string& raw);

/// Inverse of bytes_to_unicode_text; characters outside the table are copied unchanged.
std::string unicode_text_to_bytes(const std::string& text);

}  // namespace abq::tokenize
