#include "framework/quant/quant_spec_json.h"

#include "framework/quant/quant_spec_options.h"

namespace abq::quant {

// Both directions walk the declaration (quant_spec_options.h): a key added there is stored here.
nlohmann::json spec_to_json(const QuantSpec& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, value] : quant_spec_options().values(s))
    std::visit([&j, &key = key](const auto& v) { j[key] = v; }, value);
  return j;
}

QuantSpec spec_from_json(const nlohmann::json& j) {
  std::vector<std::pair<std::string, config::OptionValue>> values;
  for (const auto& f : quant_spec_options().fields()) {
    const auto& v = j.at(f.key);
    switch (f.schema.kind()) {
      case config::Schema::Kind::boolean: values.emplace_back(f.key, v.get<bool>()); break;
      case config::Schema::Kind::integer: values.emplace_back(f.key, v.get<int64_t>()); break;
      case config::Schema::Kind::number: values.emplace_back(f.key, v.get<double>()); break;
      default: values.emplace_back(f.key, v.get<std::string>()); break;
    }
  }
  return quant_spec_options().from_values(values);
}

}  // namespace abq::quant
