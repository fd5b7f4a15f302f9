#include "evaluators/evaluator.h"

#include "framework/core/error.h"
#include "framework/core/sha256.h"

namespace abq::evaluators {
namespace {

std::string record_hash(const std::map<std::string, std::string>& record) {
  std::string canonical;
  for (const auto& [key, value] : record) canonical += key + ": " + value + "\n";  // std::map: sorted keys
  return sha256_hex(canonical).substr(0, 12);
}

}  // namespace

std::string protocol_id(const std::string& name, int64_t seqlen, const std::map<std::string, std::string>& record) {
  return cat(name, ".T", seqlen, "@", record_hash(record));
}

std::string zero_shot_protocol_id(const std::string& task, const std::string& metric,
                                  const std::map<std::string, std::string>& record) {
  return cat("zs.", task, ".", metric, ".0shot@", record_hash(record));
}

double mean_stderr(const std::vector<double>& values) {
  // lm-eval metrics.py: mean_stderr = sample_stddev / sqrt(n), sample_stddev with n - 1.
  const double n = double(values.size());
  if (values.size() < 2) return NAN;
  double mean = 0;
  for (double v : values) mean += v;
  mean /= n;
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / (n - 1)) / std::sqrt(n);
}

int64_t utf8_length(const std::string& text) {
  int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;  // count every byte that starts a code point
  return n;
}

}  // namespace abq::evaluators
