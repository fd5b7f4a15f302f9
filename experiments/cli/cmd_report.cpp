// abq report RESULTS.h5... [--spec SPEC.yaml] --out DIR [--check] [--rescore]: paper-style tables
// (LaTeX, Markdown, CSV, HTML) and plots from stored runs, beside published numbers; --check
// exits 1 when a reproduced number falls outside the spec's tolerance (experiments/report).
#include <cstdlib>
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/report/report.h"

namespace abq::cli {
namespace {

std::string default_plot_script() {
  if (const char* env = std::getenv("ABQ_PLOT_SCRIPT")) return env;
  return ABQ_PLOT_SCRIPT;
}

}  // namespace

int cmd_report(const Args& args) {
  po::options_description options("options");
  report::ReportOptions o;
  bool no_plots = false;
  options.add_options()
      ("results", po::value(&o.results)->required()->multitoken(), "results files (.h5)")
      ("spec", po::value(&o.spec_path), "report spec (configs/reports/*.yaml); without: runs x metrics")
      ("out", po::value(&o.out_dir)->required(), "output folder (created)")
      ("check", po::bool_switch(&o.check), "evaluate the spec's gates; exit 1 listing every failing cell")
      ("rescore", po::bool_switch(&o.rescore), "recompute zero-shot acc / acc_norm from the stored per-choice tables")
      ("no-plots", po::bool_switch(&no_plots), "tables only")
      ("python", po::value(&o.python)->default_value("python3"), "interpreter for the plots (matplotlib, h5py)")
      ("plot-script", po::value(&o.plot_script)->default_value(default_plot_script()), "plots.py");
  po::variables_map values;
  if (!parse_args("report", "RESULTS.h5... [--spec SPEC.yaml] --out DIR [--check] [--rescore]", args, options, values,
                  "results", -1))
    return kExitOk;
  o.plots = !no_plots;
  const report::ReportOutcome outcome = report::write_report(o);
  std::cout << "report: " << outcome.runs << " run(s), " << outcome.reference_entries << " reference entries -> "
            << o.out_dir << " (" << outcome.written.size() << " files)\n";
  for (const auto& line : outcome.rescored) std::cout << "rescore: " << line << "\n";
  if (o.plots && !outcome.plot_status.empty()) std::cerr << "warning: no plots: " << outcome.plot_status << "\n";
  if (!outcome.gates) return kExitOk;
  const auto& g = *outcome.gates;
  std::cout << "gates: " << (g.passed() ? "PASS" : "FAIL") << ", " << g.compared << " cell(s) compared, "
            << g.failures.size() << " failing\n";
  if (g.compared == 0) std::cout << "nothing was compared: no run matched a reference cell with a gated metric\n";
  for (const auto& f : g.failures) std::cout << "FAIL " << f << "\n";
  for (const auto& s : g.skipped) std::cout << "SKIP " << s << "\n";
  return g.passed() ? kExitOk : kExitFailure;
}

}  // namespace abq::cli
