// JSON from model files (safetensors headers and indexes, config.json), parsed with limits: at most
// kMaxJsonDepth levels of nesting and no key twice in one object. Without them a header holding a
// shape nested 100,000 deep parses fine and then overflows the stack in dump() while the error
// message is formatted, and a tensor listed twice silently keeps its last entry.
// Internal to io/: included by .cpp files only (nlohmann stays out of io/'s public headers).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace abq::io {

/// Deeper than any model file needs (config.json nests 3 levels, a safetensors header 3).
constexpr int kMaxJsonDepth = 64;

/// Parses [begin, end). Throws abq::Error starting with `where` (the file, and the part of it:
/// "model.safetensors: header") for invalid JSON (with nlohmann's byte position), nesting deeper
/// than kMaxJsonDepth, or a key repeated in one object (naming the key).
nlohmann::json parse_bounded_json(const char* begin, const char* end, const std::string& where);
inline nlohmann::json parse_bounded_json(const std::string& text, const std::string& where) {
  return parse_bounded_json(text.data(), text.data() + text.size(), where);
}

/// `value` as JSON text for an error message, cut to at most `max_chars` characters (with "...").
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 80);

}  // namespace abq::io
