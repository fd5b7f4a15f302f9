// Shared by the corpus reader tests: paths into tests/fixtures/evaluators, whose wikitext2/, ptb/
// and c4/ files and python_draws.json (tools/fixtures/evaluators_draws.py) the evaluator tests
// read too.
#pragma once

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace abq::data::testing {

inline std::string fixture(const std::string& rel) { return std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/evaluators/" + rel; }

inline nlohmann::json read_json(const std::string& rel) {
  std::ifstream in(fixture(rel));
  return nlohmann::json::parse(in);
}

}  // namespace abq::data::testing
