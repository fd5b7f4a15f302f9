#include "framework/quant/quant_spec.h"

#include <cmath>
#include <cstdio>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::quant {

namespace {

// The one table of granularity names; to_string, parsing and granularity_names() all read it.
struct GranularityName {
  Granularity value;
  const char* name;
};
constexpr GranularityName kGranularityNames[] = {
    {Granularity::per_tensor, "per_tensor"}, {Granularity::per_channel, "per_channel"},
    {Granularity::per_group, "per_group"},   {Granularity::per_token, "per_token"},
    {Granularity::per_head, "per_head"},
};

}  // namespace

const char* to_string(Granularity g) {
  for (const auto& entry : kGranularityNames) {
    if (entry.value == g) return entry.name;
  }
  ABQ_ASSERT(false, "unknown Granularity value ", static_cast<int>(g));
  return "";
}

std::vector<std::string> granularity_names() {
  std::vector<std::string> names;
  for (const auto& entry : kGranularityNames) names.emplace_back(entry.name);
  return names;
}

Granularity granularity_from_string(const std::string& name) {
  for (const auto& entry : kGranularityNames) {
    if (name == entry.name) return entry.value;
  }
  const auto names = granularity_names();
  const std::string suggestion = closest_match(name, names);
  throw Error(cat("unknown granularity '", name, "'",
                  suggestion.empty() ? std::string() : cat("; did you mean '", suggestion, "'?"),
                  " allowed: ", join(names)));
}

std::string describe(const QuantSpec& spec) {
  if (!spec.enabled()) return std::to_string(spec.bits);
  std::string label = std::to_string(spec.bits);
  switch (spec.granularity) {
    case Granularity::per_tensor: label += "pt"; break;
    case Granularity::per_channel: break;
    case Granularity::per_group: label += cat("g", spec.group_size); break;
    case Granularity::per_token: label += "t"; break;
    case Granularity::per_head: label += "h"; break;
  }
  if (spec.symmetric) label += "s";
  if (spec.levels() != (int64_t(1) << spec.bits)) label += "*";
  if (spec.clip_ratio < 1.0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "c%g", spec.clip_ratio);
    label += buf;
  }
  if (!spec.dynamic) label += "-static";
  return label;
}

std::string describe(const QuantSpec& spec, const std::string& role) { return role + describe(spec); }


}  // namespace abq::quant
