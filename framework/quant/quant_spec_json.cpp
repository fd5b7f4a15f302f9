#include "framework/quant/quant_spec_json.h"

namespace abq::quant {

nlohmann::json spec_to_json(const QuantSpec& s) {
  return {{"bits", s.bits}, {"symmetric", s.symmetric}, {"granularity", to_string(s.granularity)},
          {"group_size", s.group_size}, {"dynamic", s.dynamic}, {"clip_ratio", s.clip_ratio},
          {"bit_balance", s.bit_balance}};
}

QuantSpec spec_from_json(const nlohmann::json& j) {
  QuantSpec s;
  s.bits = j.at("bits").get<int>();
  s.symmetric = j.at("symmetric").get<bool>();
  s.granularity = granularity_from_string(j.at("granularity").get<std::string>());
  s.group_size = j.at("group_size").get<int64_t>();
  s.dynamic = j.at("dynamic").get<bool>();
  s.clip_ratio = j.at("clip_ratio").get<double>();
  s.bit_balance = j.at("bit_balance").get<bool>();
  return s;
}

}  // namespace abq::quant
