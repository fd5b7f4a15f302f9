#include "experiments/sweep/merge_report.h"

#include <filesystem>
#include <set>

#include "experiments/sweep/sweep_plan.h"
#include "framework/store/merge_stores.h"

namespace abq::sweep {
namespace {

const char* action_name(store::MergeAction a) {
  switch (a) {
    case store::MergeAction::added: return "added";
    case store::MergeAction::replaced: return "replaced";
    case store::MergeAction::unchanged: return "unchanged";
    case store::MergeAction::kept: return "kept";
  }
  return "?";
}

// The first line of an error, for a one-line listing.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

MergeSummary merge_and_report(const std::vector<std::string>& inputs, const std::string& output,
                              const std::string& runs_file, std::ostream& out) {
  const store::MergeReport report = store::merge_stores(inputs, output);
  MergeSummary summary;
  std::set<std::string> seen;
  for (const auto& r : report.runs) {
    seen.insert(r.run_id);
    const char* status = store::run_status_name(r.status);
    out << "  " << r.run_id << "  " << r.name << "  " << status << " (" << action_name(r.action) << ")";
    if (r.status == store::RunStatus::failed) out << ": " << first_line(r.error);
    out << "\n";
    if (r.status == store::RunStatus::complete) ++summary.complete;
    else ++summary.failed;
    if (r.action == store::MergeAction::added || r.action == store::MergeAction::replaced) ++summary.written;
  }
  if (!runs_file.empty()) {
    std::set<std::string> complete_in_output;
    if (std::filesystem::exists(output))
      for (const auto& r : store::ResultsStore(output, store::OpenMode::existing).read_all())
        if (r.status == store::RunStatus::complete) complete_in_output.insert(r.run_id);
    for (const auto& listed : read_runs_file(runs_file)) {
      if (seen.count(listed.run_id)) continue;
      if (complete_in_output.count(listed.run_id)) {
        ++summary.complete;
        continue;
      }
      out << "  " << listed.run_id << "  " << listed.name << "  missing: no task file holds it (never started, or "
          << "cancelled before it began)\n";
      ++summary.missing;
    }
  }
  out << "merged " << inputs.size() << " file(s) into " << output << ": " << summary.complete << " complete, "
      << summary.failed << " failed";
  if (!runs_file.empty()) out << ", " << summary.missing << " missing";
  out << "; " << summary.written << " record(s) written\n";
  return summary;
}

}  // namespace abq::sweep
