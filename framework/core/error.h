// abq::Error: the one exception type for user-input problems (config, checkpoint, data, CLI).
// A broken internal invariant is a bug and uses ABQ_ASSERT instead.
//
// Messages say where, what was expected, what was found and how to fix it. Layer boundaries add
// one line of context with `with_context` and rethrow; the CLI prints the whole chain:
//
//   error: loading /models/Llama-2-7b-hf
//     while reading model-00002-of-00002.safetensors
//     tensor 'model.layers.17.mlp.down_proj.weight' has wrong shape; expected [4096, 11008], got ...
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace abq {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message), message_(message) {}

  /// Adds an outer line of context ("while reading X"); the innermost message stays last.
  Error& with_context(const std::string& context) {
    context_.insert(context_.begin(), context);
    full_.clear();
    return *this;
  }

  const std::vector<std::string>& context() const { return context_; }
  const std::string& message() const { return message_; }

  /// Context lines first (outermost first), then the message, indented under the first line.
  const char* what() const noexcept override;

 private:
  std::string message_;
  std::vector<std::string> context_;
  mutable std::string full_;
};

/// A config-file problem; exit code 2 in the CLI (usage / config errors), unlike runtime errors.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// Builds a message from streamable parts: abq::cat("expected ", n, " got ", m).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace abq

/// Internal invariant; failing it is a bug in abq, not a user error.
#define ABQ_ASSERT(cond, ...)                                                              \
  do {                                                                                     \
    if (!(cond)) ::abq::assertion_failed(#cond, __FILE__, __LINE__, ::abq::cat(__VA_ARGS__)); \
  } while (0)
