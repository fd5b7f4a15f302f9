// Merging results stores: the per-task files of a sweep (each job writes its own HDF5 file, so no
// file is shared between writers on a network filesystem) become one store.
//
// Per run id, the best record wins: complete over failed over incomplete (`running`). Two
// complete records of one run must carry the same result, else the merge is refused and nothing is
// written. The result of a record is what a rerun must reproduce: config_hash, the digests of the
// model, tokenizer and calibration data, the setting, and the metrics and sites tables (timings,
// hosts and dates may differ). Records are copied whole (provenance, per-example tables,
// timings), with `merged_from` naming the file they came from. An incomplete record is merged as
// failed ("incomplete in FILE ..."): a sweep's result never shows an unfinished run as a result,
// and the complete record of a later merge replaces it. Merging the same files again changes
// nothing (each record is compared with what the output holds).
#pragma once

#include <string>
#include <vector>

#include "framework/store/results_store.h"

namespace abq::store {

/// Attribute naming the file a merged record came from.
inline constexpr const char* kMergedFromAttr = "merged_from";

enum class MergeAction {
  added,      // the output had no record of this run
  replaced,   // the output's record was incomplete or failed, or an older failure
  unchanged,  // the output already held this record (or the same result)
  kept,       // the output's record is better than every input's (e.g. complete vs failed)
};

struct MergedRun {
  std::string run_id;
  std::string name;    // the run's `name` attribute
  RunStatus status;    // in the output after the merge
  std::string error;   // for failed runs
  std::string source;  // the input the output's record came from ("" when kept from the output)
  MergeAction action;
};

struct MergeReport {
  std::vector<MergedRun> runs;  // every run of the inputs, in run id order
  int count(RunStatus status) const;
  int count(MergeAction action) const;
};

/// Merges every run of `inputs` into `output` (created if missing) in one atomic write. Throws
/// abq::Error naming both files and the first difference when two complete records of one run
/// differ in their result; the output is then left as it was. Inputs are only read.
MergeReport merge_stores(const std::vector<std::string>& inputs, const std::string& output);

/// The fields two complete records of one run must agree on, as text (for comparing and messages).
std::string result_fingerprint(const RunRecord& record);

}  // namespace abq::store
