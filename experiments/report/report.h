// `abq report`: stored runs (+ reference tables) + a spec -> LaTeX, Markdown, CSV, an HTML page
// and plots in one folder, and optionally the gate check. Reads stores only; never runs a model.
//
//   OUT/<table>.tex .md .csv   each table of the spec
//   OUT/report.md              every table, the notes and the plots
//   OUT/cells.csv              every cell of every table (long format)
//   OUT/index.html             every table and plot on one page
//   OUT/runs.json              the runs as the report named them (read by plots.py)
//   OUT/plots/*.png, *.pdf     plots.py (matplotlib): perplexity vs bits, accuracy vs bytes,
//                              per-site SQNR, calibration losses
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "experiments/report/gates.h"

namespace abq::report {

struct ReportOptions {
  std::vector<std::string> results;  // results stores
  std::string spec_path;             // "" = the default layout
  std::string out_dir;
  bool rescore = false;              // recompute zero-shot accuracies from the per-choice tables
  bool check = false;                // evaluate the spec's gates
  bool plots = true;
  std::string plot_script;           // plots.py
  std::string python = "python3";
};

struct ReportOutcome {
  std::vector<std::string> written;      // files written (paths)
  std::vector<std::string> rescored;     // rescore_runs lines
  std::optional<GateResult> gates;       // when check
  std::string plot_status;               // "" = plots written, else why not
  int runs = 0, reference_entries = 0;
};

ReportOutcome write_report(const ReportOptions& options);

}  // namespace abq::report
