// merge_stores and release_run: the rules of merging per-task stores into one (merge_stores.h).
// Expected values are the records written (store_test_util.h derives each from its index), the
// rules stated in merge_stores.h (complete > failed > incomplete, conflicting results refused,
// repeated merges write nothing) and the error texts in merge_stores.cpp.
#include "framework/store/merge_stores.h"

#include <gtest/gtest.h>

#include "framework/store/run_owner.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::error_text;
using test_util::read_bytes;
using test_util::record_of;
using test_util::run_id_of;
using test_util::same_record;
using test_util::ScratchDir;

RunRecord complete(const std::string& path, int index, RunRecord record) {
  ResultsStore store(path);
  store.begin_run(run_id_of(index), begin_attributes_of(index));
  store.finish_run(record);
  record.status = RunStatus::complete;
  return record;
}
RunRecord complete(const std::string& path, int index) { return complete(path, index, record_of(index)); }

void failed(const std::string& path, int index, const std::string& error) {
  ResultsStore store(path);
  store.begin_run(run_id_of(index), begin_attributes_of(index));
  store.fail_run(run_id_of(index), error);
}

const MergedRun& outcome_of(const MergeReport& report, int index) {
  for (const auto& r : report.runs)
    if (r.run_id == run_id_of(index)) return r;
  throw std::runtime_error("no outcome for run " + run_id_of(index));
}

TEST(MergeStores, CopiesEveryRecordWholeWithItsProvenanceAndSource) {
  ScratchDir dir;
  const auto a = dir.file("a.h5"), b = dir.file("b.h5"), out = dir.file("out.h5");
  const RunRecord r1 = complete(a, 1), r2 = complete(b, 2);
  const MergeReport report = merge_stores({a, b}, out);
  EXPECT_EQ(report.count(MergeAction::added), 2);
  ResultsStore merged(out, OpenMode::existing);
  const RunRecord m1 = merged.read_run(run_id_of(1));
  EXPECT_TRUE(same_record(r1, m1));
  EXPECT_TRUE(same_record(r2, merged.read_run(run_id_of(2))));
  // Provenance and store attributes come along unchanged: the owner, host and dates of the writer.
  const RunRecord source = ResultsStore(a, OpenMode::existing).read_run(run_id_of(1));
  for (const auto& [key, value] : source.attributes) EXPECT_EQ(m1.attributes.at(key), value) << key;
  EXPECT_EQ(m1.attributes.at(kMergedFromAttr), a);
}

TEST(MergeStores, ASecondMergeOfTheSameFilesWritesNothing) {
  ScratchDir dir;
  const auto a = dir.file("a.h5"), out = dir.file("out.h5");
  complete(a, 1);
  failed(a, 2, "out of memory");
  merge_stores({a}, out);
  const std::string bytes = read_bytes(out);
  const MergeReport again = merge_stores({a}, out);
  EXPECT_EQ(again.count(MergeAction::unchanged), 2);
  EXPECT_EQ(read_bytes(out), bytes);
}

TEST(MergeStores, RefusesTwoCompleteRecordsOfOneRunWithDifferentResultsAndWritesNothing) {
  ScratchDir dir;
  const auto a = dir.file("a.h5"), b = dir.file("b.h5"), out = dir.file("out.h5");
  complete(a, 1);
  RunRecord other = record_of(1);
  other.metrics[0].value = 99.5;
  complete(b, 1, other);
  complete(a, 3);
  const std::string message = error_text([&] { merge_stores({a, b}, out); });
  EXPECT_NE(message.find("run 'run1001' (sweep/1) is complete in '" + a + "' and in '" + b +
                         "' with different results: 'metric ppl wikitext2 ppl/wikitext2/2048 = 6.5"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("vs 'metric ppl wikitext2 ppl/wikitext2/2048 = 99.5"), std::string::npos) << message;
  EXPECT_NE(message.find("Refusing to merge"), std::string::npos);
  EXPECT_FALSE(ResultsStore(out).status(run_id_of(3)));  // nothing of the merge was written
}

TEST(MergeStores, SameResultWithOtherTimingsIsNoConflict) {
  ScratchDir dir;
  const auto a = dir.file("a.h5"), b = dir.file("b.h5"), out = dir.file("out.h5");
  complete(a, 1);
  RunRecord rerun = record_of(1);
  rerun.timings[0].seconds = 1234.5;  // a rerun elsewhere: same result, other times
  complete(b, 1, rerun);
  const MergeReport report = merge_stores({a, b}, out);
  EXPECT_EQ(outcome_of(report, 1).status, RunStatus::complete);
  EXPECT_EQ(outcome_of(report, 1).source, a);
}

TEST(MergeStores, CompleteBeatsFailedInEitherOrderAndAFailureNeverHidesAResult) {
  ScratchDir dir;
  const auto a = dir.file("a.h5"), b = dir.file("b.h5");
  failed(a, 1, "killed");
  complete(b, 1);
  for (const auto& order : {std::vector<std::string>{a, b}, std::vector<std::string>{b, a}}) {
    const auto out = dir.file("out" + std::to_string(order.front() == a) + ".h5");
    EXPECT_EQ(outcome_of(merge_stores(order, out), 1).status, RunStatus::complete);
    // The output's complete record is kept against a later merge of the failure alone.
    const MergeReport again = merge_stores({a}, out);
    EXPECT_EQ(outcome_of(again, 1).action, MergeAction::kept);
    EXPECT_EQ(ResultsStore(out).status(run_id_of(1)), RunStatus::complete);
  }
}

TEST(MergeStores, FailedRunsKeepTheirErrorAndAreReplacedByTheirLaterSuccess) {
  ScratchDir dir;
  const auto a = dir.file("a.h5"), out = dir.file("out.h5");
  failed(a, 1, "calibration diverged at block 3");
  const MergeReport first = merge_stores({a}, out);
  EXPECT_EQ(outcome_of(first, 1).status, RunStatus::failed);
  EXPECT_EQ(outcome_of(first, 1).error, "calibration diverged at block 3");
  // The resubmitted run completes in the same task file; the next merge replaces the failure.
  complete(a, 1);
  const MergeReport second = merge_stores({a}, out);
  EXPECT_EQ(outcome_of(second, 1).action, MergeAction::replaced);
  EXPECT_EQ(ResultsStore(out).status(run_id_of(1)), RunStatus::complete);
}

TEST(MergeStores, AnIncompleteRunIsMergedAsFailedSayingWhere) {
  ScratchDir dir;
  const auto a = dir.file("a.h5"), out = dir.file("out.h5");
  ResultsStore task(a);
  task.begin_run(run_id_of(1), begin_attributes_of(1));
  task.release_run(run_id_of(1), "stopped on request after calibration block 2 of 6");
  const MergeReport report = merge_stores({a}, out);
  EXPECT_EQ(outcome_of(report, 1).status, RunStatus::failed);
  EXPECT_EQ(outcome_of(report, 1).error,
            "incomplete in '" + a + "': interrupted (stopped on request after calibration block 2 of 6) and not resumed yet");
  EXPECT_EQ(task.status(run_id_of(1)), RunStatus::running);  // inputs are only read
}

TEST(MergeStores, NamesAMissingInputAndRefusesToMergeAFileIntoItself) {
  ScratchDir dir;
  const auto a = dir.file("a.h5");
  complete(a, 1);
  EXPECT_NE(error_text([&] { merge_stores({dir.file("none.h5")}, a); }).find("no results store '" + dir.file("none.h5")),
            std::string::npos);
  EXPECT_EQ(error_text([&] { merge_stores({a}, a); }), "'" + a + "' is both an input and the output of the merge");
}

TEST(ReleaseRun, LeavesTheRunIncompleteWithoutAnOwnerSoAnyProcessMayResumeIt) {
  ScratchDir dir;
  ResultsStore store(dir.file("r.h5"));
  store.begin_run(run_id_of(1), begin_attributes_of(1));
  store.release_run(run_id_of(1), "preempted");
  const RunRecord r = store.read_run(run_id_of(1));
  EXPECT_EQ(r.status, RunStatus::running);
  EXPECT_EQ(r.attributes.at(schema::kInterruptedAttr), "preempted");
  EXPECT_FALSE(owner_from_attributes(r.attributes));
  // Resuming: begin_run takes the run over (no owner to check) and the record starts afresh.
  store.begin_run(run_id_of(1), begin_attributes_of(1));
  EXPECT_FALSE(store.read_run(run_id_of(1)).attributes.count(schema::kInterruptedAttr));
  store.finish_run(record_of(1));
  EXPECT_EQ(error_text([&] { store.release_run(run_id_of(1), "x"); }),
            "releasing run 'run1001' in results store '" + dir.file("r.h5") +
                "'\n  run 'run1001' is complete; only a running run can be left for another process to resume");
}

}  // namespace
}  // namespace abq::store
