// Reads llama.cpp's tokenizer test vectors (models/ggml-vocab-*.gguf.inp/.out): the .inp file holds
// the inputs, each followed by a line "__ggml_vocab_test__"; the .out file holds one line per input
// with the expected ids separated by spaces (written by llama.cpp's convert_hf_to_gguf_update.py
// from Hugging Face `tokenizers` with add_special_tokens=False).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "framework/core/error.h"

namespace abq::tokenize::testing {

struct TestVector {
  std::string input;
  std::vector<int64_t> expected;
};

inline std::string fixture_path(const std::string& name) {
  return std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/tokenizers/" + name;
}

inline std::vector<TestVector> read_test_vectors(const std::string& vocab_file) {
  std::ifstream inp(vocab_file + ".inp", std::ios::binary);
  std::ifstream out(vocab_file + ".out", std::ios::binary);
  if (!inp || !out) throw Error(cat("missing test vectors for ", vocab_file));
  const std::string text((std::istreambuf_iterator<char>(inp)), std::istreambuf_iterator<char>());
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<TestVector> vectors;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find(sep, pos);
    if (next == std::string::npos) next = text.size();
    vectors.push_back({text.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  std::string line;
  size_t i = 0;
  while (std::getline(out, line)) {
    if (i >= vectors.size()) throw Error(cat(vocab_file, ".out has more lines than inputs"));
    std::istringstream ids(line);
    int64_t id = 0;
    while (ids >> id) vectors[i].expected.push_back(id);
    ++i;
  }
  if (i != vectors.size()) throw Error(cat(vocab_file, ".out has ", i, " lines for ", vectors.size(), " inputs"));
  return vectors;
}

inline std::string ids_to_string(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += " " + std::to_string(id);
  return s;
}

}  // namespace abq::tokenize::testing
