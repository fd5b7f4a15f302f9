#include "framework/core/bounded_json.h"

#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/regular_file.h"

namespace abq {

using nlohmann::json;

nlohmann::json parse_bounded_json(const char* begin, const char* end, const std::string& where) {
  // nlohmann's callback sees every event with its depth: objects and arrays open at depth d and
  // their members sit at d + 1. One key set per open object catches repeated keys, which the DOM
  // would otherwise merge (last one wins).
  std::vector<std::set<std::string>> keys;
  std::vector<bool> is_object;
  const json::parser_callback_t limits = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth)
          throw Error(cat(where, " nests JSON deeper than ", kMaxJsonDepth, " levels"));
        is_object.push_back(event == json::parse_event_t::object_start);
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        is_object.pop_back();
        keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && is_object.back() && !keys.back().insert(parsed.get<std::string>()).second)
          throw Error(cat(where, " has key '", parsed.get<std::string>(), "' twice in one JSON object"));
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(begin, end, limits);
  } catch (const json::exception& e) {
    throw Error(cat(where, " is not valid JSON: ", e.what()));
  }
}

nlohmann::json read_bounded_json_file(const std::string& path, const std::string& what) {
  require_regular_file(path, what);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && size_t(st.st_size) > kMaxJsonFileBytes)
    throw Error(cat(what, " '", path, "' is ", st.st_size, " bytes; JSON files are read up to ", kMaxJsonFileBytes,
                    " bytes"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat("cannot open ", what, " '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_bounded_json(text.str(), path);
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  std::string text = value.dump();  // bounded depth (parse_bounded_json), so dump() cannot overflow
  if (text.size() > max_chars) text = text.substr(0, max_chars) + "...";
  return text;
}

}  // namespace abq
