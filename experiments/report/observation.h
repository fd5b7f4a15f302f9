// Observation: one number a report can place in a cell, from a stored run ("ours") or a
// reference table ("paper"), keyed by model, method, setting, metric and dataset, with the
// protocol it was measured under. Accuracies are held in percent (stored runs keep fractions,
// papers print percent), so both sides of a comparison share one unit.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/report/reference_table.h"
#include "framework/store/results_store.h"

namespace abq::report {

enum class Source { ours, paper };

struct Observation {
  Source source = Source::ours;
  std::string model, method, setting;   // setting: run attribute form, "W4A4KV4"
  std::string metric, dataset, protocol;
  double value = NAN, stderr_value = NAN;
  int64_t n = 0;
  std::string origin;                   // run: "<file>#<run id>"; paper: "<table id>: <source>"
  std::string printed;                  // paper: the text as printed, when not a plain decimal
};

/// How stored runs are named in a report: of the rules whose globs match a run, the first that
/// gives a model names its model, the first that gives a method its method (defaults: the run's
/// experiment name and its run name), so model rules (by run name) and method rules (by
/// experiment) combine.
struct RunNaming {
  std::string match = "*";       // glob over the run name
  std::string experiment = "*";  // glob over the experiment name
  std::string model, method;     // empty: the default
};

/// A stored run as a report sees it.
struct RunView {
  std::string file;
  store::RunRecord record;
  std::string model, method, setting;
};

/// Complete runs of every store, named by the first matching rule.
std::vector<RunView> read_runs(const std::vector<std::string>& files, const std::vector<RunNaming>& naming);

/// Metrics of the runs (acc / acc_norm / acc_fraction scaled to percent).
std::vector<Observation> run_observations(const std::vector<RunView>& runs);

/// Every entry of the tables with a WxAy setting and a protocol (speed and cost figures have none).
std::vector<Observation> paper_observations(const std::vector<ReferenceTable>& tables);

/// The protocol name before '@' ("gptq.wikitext2.T2048@3f9a0c" -> "gptq.wikitext2.T2048").
std::string protocol_name(const std::string& protocol);

/// Factor that turns a stored metric into its report unit (100 for fractions of accuracy).
double display_scale(const std::string& metric);

/// Whether a smaller value is better (perplexities, divergences, errors).
bool lower_is_better(const std::string& metric);

/// fnmatch glob; an empty pattern matches everything.
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace abq::report
