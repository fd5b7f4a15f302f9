// The one list of registered evaluators, sorted by name: name, options schema, factory (both from
// the options' declaration next to each Options struct).
#include "evaluators/registry.h"

#include "evaluators/perplexity.h"
#include "evaluators/rolling_perplexity.h"
#include "evaluators/zero_shot.h"
#include "evaluators/zero_shot_tasks.h"
#include "framework/config/schema.h"
#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::evaluators {
namespace {

using config::Schema;

// Evaluator options come from their declarations (next to each Options struct); only the paths
// are resolved here, against the experiment file's folder.
std::unique_ptr<Evaluator> make_perplexity(const YAML::Node& o, const PathResolver& resolve) {
  PerplexityOptions options = perplexity_options().decode(o);
  options.data = resolve(options.data);
  return std::make_unique<PerplexityEvaluator>(options);
}

std::unique_ptr<Evaluator> make_rolling_perplexity(const YAML::Node& o, const PathResolver& resolve) {
  RollingPerplexityOptions options = rolling_perplexity_options().decode(o);
  options.data = resolve(options.data);
  return std::make_unique<RollingPerplexityEvaluator>(options);
}

std::unique_ptr<Evaluator> make_zero_shot(const YAML::Node& o, const PathResolver& resolve) {
  ZeroShotOptions options = zero_shot_options().decode(o);
  options.data = resolve(options.data);
  if (!options.labels.empty()) options.labels = resolve(options.labels);
  return std::make_unique<ZeroShotEvaluator>(options);
}

Schema perplexity_schema() { return perplexity_options().schema(); }
Schema rolling_perplexity_schema() { return rolling_perplexity_options().schema(); }
Schema zero_shot_schema() { return zero_shot_options().schema(); }

struct Entry {
  const char* name;
  Schema (*schema)();
  std::unique_ptr<Evaluator> (*make)(const YAML::Node&, const PathResolver&);
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> list = {
      {"perplexity", perplexity_schema, make_perplexity},
      {"rolling_perplexity", rolling_perplexity_schema, make_rolling_perplexity},
      {"zero_shot", zero_shot_schema, make_zero_shot},
  };
  return list;
}

}  // namespace

std::vector<std::string> evaluator_names() {
  std::vector<std::string> names;
  for (const auto& e : entries()) names.push_back(e.name);
  return names;
}

config::Schema evaluator_schema() {
  Schema::Fields types;
  for (const auto& e : entries()) types.push_back({e.name, e.schema()});
  return Schema::tagged("type", types);
}

std::unique_ptr<Evaluator> make_evaluator(const std::string& type, const YAML::Node& options, const PathResolver& resolve) {
  for (const auto& e : entries())
    if (type == e.name) return e.make(options, resolve);
  auto names = evaluator_names();
  std::string hint = closest_match(type, names);
  throw ConfigError(cat("unknown evaluator '", type, "'", hint.empty() ? "" : "; did you mean '" + hint + "'?",
                        " registered: ", join(names)));
}

}  // namespace abq::evaluators
