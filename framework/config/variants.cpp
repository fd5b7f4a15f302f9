#include "framework/config/variants.h"

#include <cstdint>
#include <set>

#include "framework/config/canonical.h"
#include "framework/config/diagnostics.h"
#include "framework/config/overrides.h"
#include "framework/config/scalar.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

constexpr const char* kRuns = "runs";
constexpr const char* kSweep = "sweep";


// One dotted key set by a variant; its value lives at `source` in the original document.
struct Assignment {
  std::string key;
  KeyPath source;
  KeyPath key_source;  // where the dotted key itself is written
};

struct Choice {
  std::string name;
  std::vector<Assignment> sets;
};

// Each variant is a full copy of the document (kilobytes), validated and hashed: 10^6 of them take
// gigabytes and minutes before the first run starts. Larger studies belong in several files.
constexpr uint64_t kMaxVariants = 10000;

// How many variants runs x sweep describe, as text ("1000000", or "more than 2^64"), with its
// factors ("runs: 4, sweep: 10 x 10"); false when that is more than kMaxVariants.
bool count_variants(size_t runs, const std::vector<std::vector<Choice>>& axes, std::string& count,
                    std::string& factors) {
  uint64_t total = runs == 0 ? 1 : runs;
  bool overflow = false;
  std::string sweep;
  for (const auto& axis : axes) {
    sweep += cat(sweep.empty() ? "" : " x ", axis.size());
    if (total > UINT64_MAX / axis.size()) overflow = true;
    total *= axis.size();
  }
  factors = runs == 0 ? "" : cat("runs: ", runs);
  if (!sweep.empty()) factors += (factors.empty() ? "sweep: " : ", sweep: ") + sweep;
  count = overflow ? "more than 2^64" : std::to_string(total);
  return !overflow && total <= kMaxVariants;
}

std::string value_text(const YAML::Node& value) {
  if (value.IsMap() || value.IsSequence()) return canonical_yaml(value);
  return read_scalar(value).text;
}

bool valid_key(const std::string& dotted) {
  for (const auto& segment : split_dotted(dotted)) {
    if (segment.empty()) return false;
  }
  return true;
}

std::vector<Choice> read_runs(const Document& document, Diagnostics& diagnostics) {
  std::vector<Choice> runs;
  const YAML::Node node = document.find({kRuns});
  if (!node.IsDefined()) return runs;
  if (!node.IsSequence() || node.size() == 0) {
    diagnostics.add({kRuns}, false, cat("runs must be a non-empty list of {name, set} entries, got ",
                                        node.IsSequence() ? "an empty list" : kind_name(node)));
    return runs;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const KeyPath at{kRuns, index_segment(i)};
    const YAML::Node entry = node[i];
    if (!entry.IsMap()) {
      diagnostics.add(at, false, cat(format_path(at), " must be a map {name, set}, got ", kind_name(entry)));
      continue;
    }
    Choice run;
    bool named = false;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string key = it->first.Scalar();
      KeyPath child = at;
      child.push_back(key);
      if (key == "name") {
        if (!it->second.IsScalar() || read_scalar(it->second).kind == ScalarKind::null) {
          diagnostics.add(child, false, cat("the name of ", format_path(at), " must be a string, got ",
                                            kind_name(it->second)));
          continue;
        }
        run.name = it->second.Scalar();
        named = true;
        if (!names.insert(run.name).second) {
          diagnostics.add(child, false, cat("duplicate run name '", run.name, "' in runs"),
                          "each run needs its own name");
        }
      } else if (key == "set") {
        if (it->second.IsNull()) continue;
        if (!it->second.IsMap()) {
          diagnostics.add(child, false, cat(format_path(child), " must be a map of dotted.key: value, got ",
                                            kind_name(it->second)));
          continue;
        }
        for (auto s = it->second.begin(); s != it->second.end(); ++s) {
          KeyPath source = child;
          source.push_back(s->first.Scalar());
          if (!valid_key(s->first.Scalar())) {
            diagnostics.add(source, true, cat("empty segment in key path '", s->first.Scalar(), "'"));
            continue;
          }
          run.sets.push_back({s->first.Scalar(), source, source});
        }
      } else {
        diagnostics.add(child, true, cat("unknown key '", key, "' in ", format_path(at)),
                        suggestion_hint(key, {"name", "set"}));
      }
    }
    if (!named) diagnostics.add(at, false, cat("missing required key 'name' in ", format_path(at)));
    runs.push_back(run);
  }
  return runs;
}

// Each swept key with its values, in the order written.
std::vector<std::vector<Choice>> read_sweep(const Document& document, Diagnostics& diagnostics) {
  std::vector<std::vector<Choice>> axes;
  const YAML::Node node = document.find({kSweep});
  if (!node.IsDefined()) return axes;
  if (!node.IsMap()) {
    diagnostics.add({kSweep}, false,
                    cat("sweep must be a map of dotted.key: [values], got ", kind_name(node)));
    return axes;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    const KeyPath at{kSweep, key};
    if (!valid_key(key)) {
      diagnostics.add(at, true, cat("empty segment in key path '", key, "'"));
      continue;
    }
    if (!it->second.IsSequence() || it->second.size() == 0) {
      diagnostics.add(at, false, cat("sweep values for ", key, " must be a non-empty list, got ",
                                     it->second.IsSequence() ? "an empty list" : kind_name(it->second)),
                      cat("write ", key, ": [a, b, ...]"));
      continue;
    }
    std::vector<Choice> axis;
    for (size_t j = 0; j < it->second.size(); ++j) {
      KeyPath source = at;
      source.push_back(index_segment(j));
      axis.push_back({cat(key, "=", value_text(it->second[j])), {{key, source, at}}});
    }
    axes.push_back(axis);
  }
  return axes;
}

}  // namespace

std::vector<Variant> expand_variants(const Document& document) {
  Diagnostics diagnostics(document);
  std::vector<Choice> runs = read_runs(document, diagnostics);
  const std::vector<std::vector<Choice>> axes = read_sweep(document, diagnostics);

  Document base = document.clone();
  base.root().remove(kRuns);
  base.root().remove(kSweep);
  base.erase_positions({kRuns});
  base.erase_positions({kSweep});

  // A key set both on the command line and by a variant would silently lose one of them.
  std::set<std::string> swept;
  for (const auto& axis : axes) swept.insert(axis.front().sets.front().key);
  auto check_conflicts = [&](const Assignment& a, bool from_run) {
    const SourcePosition* set_at = base.value_position(resolve_dotted(base, a.key));
    if (set_at && set_at->file == kCommandLine) {
      diagnostics.add(a.key_source, true,
                      cat(a.key, " is set by ", from_run ? "runs" : "sweep", " and on the command line (",
                          set_at->origin, ")"),
                      "drop one of them");
    }
    if (from_run && swept.count(a.key)) {
      diagnostics.add(a.key_source, true, cat(a.key, " is set by runs and also swept"),
                      "drop one of them");
    }
  };
  for (const auto& run : runs) {
    for (const auto& a : run.sets) check_conflicts(a, true);
  }
  for (const auto& axis : axes) check_conflicts(axis.front().sets.front(), false);
  std::string count, factors;
  if (!count_variants(runs.size(), axes, count, factors)) {
    diagnostics.add(axes.empty() ? KeyPath{kRuns} : KeyPath{kSweep}, true,
                    cat("the experiment expands to ", count, " runs (", factors, "), more than the limit of ",
                        kMaxVariants),
                    "split the study into several experiment files");
  }
  diagnostics.throw_if_any();

  if (runs.empty()) runs.push_back(Choice{});
  // Sweep points: an odometer over the axes, first key outermost.
  std::vector<std::vector<const Choice*>> points(1);
  for (const auto& axis : axes) {
    std::vector<std::vector<const Choice*>> next;
    for (const auto& point : points) {
      for (const auto& choice : axis) {
        next.push_back(point);
        next.back().push_back(&choice);
      }
    }
    points.swap(next);
  }

  std::vector<Variant> variants;
  std::set<std::string> problems;
  for (const auto& run : runs) {
    for (const auto& point : points) {
      Variant variant{run.name, base.clone()};
      std::vector<const Assignment*> sets;
      for (const auto& a : run.sets) sets.push_back(&a);
      std::string sweep_name;
      for (const Choice* choice : point) {
        sweep_name += (sweep_name.empty() ? "" : ",") + choice->name;
        for (const auto& a : choice->sets) sets.push_back(&a);
      }
      if (!sweep_name.empty()) variant.name += (variant.name.empty() ? "" : "/") + sweep_name;
      for (const Assignment* a : sets) {
        const KeyPath target = resolve_dotted(variant.document, a->key);
        const std::string problem =
            assign(variant.document, target, document.find(a->source), document.locate(a->source));
        if (!problem.empty()) {
          const SourcePosition where = document.locate(a->key_source, true);
          if (problems.insert(cat(where.describe(), a->key, problem)).second) {
            diagnostics.add(where, cat("cannot set ", a->key, ": ", problem));
          }
          continue;
        }
        variant.document.erase_positions(target);
        variant.document.copy_positions(document, a->source, target);
        variant.document.set_key_position(target, document.locate(a->key_source, true));
      }
      variants.push_back(std::move(variant));
    }
  }
  diagnostics.throw_if_any();
  return variants;
}

}  // namespace abq::config
