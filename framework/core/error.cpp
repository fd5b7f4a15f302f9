#include "framework/core/error.h"

namespace abq {

const char* Error::what() const noexcept {
  if (full_.empty()) {
    std::string indent;
    for (const auto& line : context_) {
      full_ += indent + line + "\n";
      indent = "  ";
    }
    full_ += indent + message_;
  }
  return full_.c_str();
}

void assertion_failed(const char* expr, const char* file, int line, const std::string& msg) {
  throw std::logic_error(cat("internal error (a bug in abq): ", expr, " failed at ", file, ":", line,
                             msg.empty() ? "" : ": ", msg));
}

}  // namespace abq
