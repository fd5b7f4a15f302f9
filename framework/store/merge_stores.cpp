#include "framework/store/merge_stores.h"

#include <cstdio>
#include <map>
#include <sstream>
#include <type_traits>
#include <variant>

#include "framework/core/error.h"
#include "framework/store/run_owner.h"

namespace abq::store {
namespace {

// Shortest text that reads back to the same double; NaN and Inf compare equal to themselves.
std::string exact(double x) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

std::string attribute(const RunRecord& r, const std::string& key) {
  auto it = r.attributes.find(key);
  return it == r.attributes.end() ? "" : it->second;
}

void table_text(std::ostringstream& out, const std::string& name, const Table& table) {
  out << "table " << name << " rows=" << table.rows() << "\n";
  for (const auto& column : table.columns()) {
    out << " column " << column.name << " " << column_type_name(column.type()) << ":";
    std::visit(
        [&](const auto& values) {
          for (const auto& v : values) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) out << " " << exact(v);
            else out << " " << v;
          }
        },
        column.values);
    out << "\n";
  }
}

// The whole record as text, but for where it was merged from: equal text, nothing to write.
std::string record_text(const RunRecord& r) {
  std::ostringstream out;
  out << "status " << run_status_name(r.status) << "\n";
  for (const auto& [key, value] : r.attributes)
    if (key != kMergedFromAttr) out << "attr " << key << "=" << value << "\n";
  table_text(out, "metrics", to_table(r.metrics));
  table_text(out, "sites", to_table(r.sites));
  table_text(out, "timings", to_table(r.timings));
  for (const auto& [name, table] : r.tables) table_text(out, name, table);
  return out.str();
}

// The first line where two fingerprints differ, for the conflict message.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream in_a(a), in_b(b);
  std::string la, lb;
  while (true) {
    const bool more_a = bool(std::getline(in_a, la)), more_b = bool(std::getline(in_b, lb));
    if (!more_a && !more_b) return "";
    if (!more_a) la = "(nothing)";
    if (!more_b) lb = "(nothing)";
    if (la != lb) return cat("'", la, "' vs '", lb, "'");
  }
}

int rank(RunStatus s) { return s == RunStatus::complete ? 2 : s == RunStatus::failed ? 1 : 0; }

// When the record was last written: `finished`, else `started`.
std::string last_written(const RunRecord& r) {
  const std::string finished = attribute(r, schema::kFinishedAttr);
  return finished.empty() ? attribute(r, schema::kStartedAttr) : finished;
}

struct Candidate {
  RunRecord record;
  std::string source;
};

Error conflict(const RunRecord& a, const std::string& file_a, const RunRecord& b, const std::string& file_b,
               const std::string& output) {
  return Error(cat("run '", a.run_id, "' (", attribute(a, "name"), ") is complete in '", file_a, "' and in '", file_b,
                   "' with different results: ", first_difference(result_fingerprint(a), result_fingerprint(b)),
                   ". Refusing to merge; '", output, "' is unchanged. Remove the record that is wrong, or rerun the ",
                   "run into a fresh file"));
}

// Keeps the better of `best` and a new record of the same run (complete > failed > incomplete;
// the later of two failed or incomplete ones).
void consider(std::map<std::string, Candidate>& best, RunRecord record, const std::string& source,
              const std::string& output) {
  auto it = best.find(record.run_id);
  if (it == best.end()) {
    const std::string id = record.run_id;
    best.emplace(id, Candidate{std::move(record), source});
    return;
  }
  const RunRecord& held = it->second.record;
  if (held.status == RunStatus::complete && record.status == RunStatus::complete) {
    if (result_fingerprint(held) != result_fingerprint(record)) throw conflict(held, it->second.source, record, source, output);
    return;
  }
  const int now = rank(held.status), next = rank(record.status);
  if (next > now || (next == now && last_written(record) > last_written(held))) it->second = {std::move(record), source};
}

// What the output receives: the record with its source, an incomplete one as failed.
RunRecord as_merged(const Candidate& c) {
  RunRecord r = c.record;
  if (r.status == RunStatus::running) {
    const std::string interrupted = attribute(r, schema::kInterruptedAttr);
    r.status = RunStatus::failed;
    r.attributes[schema::kErrorAttr] =
        cat("incomplete in '", c.source, "': ",
            interrupted.empty() ? "the run stopped before finishing (its process was killed, or is still running)"
                                : "interrupted (" + interrupted + ") and not resumed yet");
    for (const char* const* name = owner_attribute_names(); *name != nullptr; ++name) r.attributes.erase(*name);
  }
  r.attributes[kMergedFromAttr] = c.source;
  return r;
}

MergedRun outcome(const RunRecord& r, const std::string& source, MergeAction action) {
  return {r.run_id, attribute(r, "name"), r.status, attribute(r, schema::kErrorAttr), source, action};
}

}  // namespace

std::string result_fingerprint(const RunRecord& r) {
  std::ostringstream out;
  for (const char* key : {"config_hash", "model_sha256", "tokenizer_sha256", "calibration_data_sha256", "setting"})
    out << key << "=" << attribute(r, key) << "\n";
  for (const auto& m : r.metrics)
    out << "metric " << m.metric << " " << m.dataset << " " << m.protocol << " = " << exact(m.value)
        << " stderr " << exact(m.stderr_value) << " n " << m.n << "\n";
  for (const auto& s : r.sites)
    out << "site " << s.site << " bits " << s.bits << " " << s.granularity << " g" << s.group_size << " levels "
        << s.levels << " mse " << exact(s.mse) << " sqnr " << exact(s.sqnr_db) << "\n";
  return out.str();
}

int MergeReport::count(RunStatus status) const {
  int n = 0;
  for (const auto& r : runs) n += r.status == status;
  return n;
}

int MergeReport::count(MergeAction action) const {
  int n = 0;
  for (const auto& r : runs) n += r.action == action;
  return n;
}

MergeReport merge_stores(const std::vector<std::string>& inputs, const std::string& output) {
  std::map<std::string, Candidate> best;
  for (const auto& input : inputs) {
    if (input == output) throw Error(cat("'", input, "' is both an input and the output of the merge"));
    ResultsStore store(input, OpenMode::existing);
    for (auto& record : store.read_all()) consider(best, std::move(record), input, output);
  }
  MergeReport report;
  ResultsStore out(output);
  out.write_records([&](const std::vector<RunRecord>& current) {
    report = {};
    std::map<std::string, const RunRecord*> held;
    for (const auto& r : current) held[r.run_id] = &r;
    std::vector<RunRecord> writes;
    for (const auto& [id, candidate] : best) {
      RunRecord merged = as_merged(candidate);
      auto it = held.find(id);
      if (it == held.end()) {
        report.runs.push_back(outcome(merged, candidate.source, MergeAction::added));
        writes.push_back(std::move(merged));
        continue;
      }
      const RunRecord& existing = *it->second;
      const std::string existing_source = attribute(existing, kMergedFromAttr);
      if (record_text(existing) == record_text(merged)) {
        report.runs.push_back(outcome(existing, existing_source, MergeAction::unchanged));
        continue;
      }
      if (existing.status == RunStatus::complete) {
        if (merged.status != RunStatus::complete) {
          report.runs.push_back(outcome(existing, existing_source, MergeAction::kept));
        } else if (result_fingerprint(existing) != result_fingerprint(merged)) {
          throw conflict(existing, output, merged, candidate.source, output);
        } else {
          report.runs.push_back(outcome(existing, existing_source, MergeAction::unchanged));
        }
        continue;
      }
      // The output's record is failed or incomplete: a complete record replaces it, and so does a
      // later failure; a live run in the output itself is not replaced by a failure.
      const bool better = rank(merged.status) > rank(existing.status) ||
                          (existing.status == RunStatus::failed && merged.status == RunStatus::failed &&
                           last_written(merged) >= last_written(existing));
      if (!better) {
        report.runs.push_back(outcome(existing, existing_source, MergeAction::kept));
        continue;
      }
      report.runs.push_back(outcome(merged, candidate.source, MergeAction::replaced));
      writes.push_back(std::move(merged));
    }
    return writes;
  });
  return report;
}

}  // namespace abq::store
