// Crash safety: a writer process is SIGKILLed at many random moments while it begins and finishes
// runs in a loop. After every kill the store must open, every run seen complete before must still
// be complete and identical to what was written (record_of(index) recomputes it), at most the one
// in-flight run may be `running`, and re-running that one must complete it. The test discriminates:
// a variant of atomic_file.cpp that edits the store in place failed it within 16 kills in each of
// five trials (reopening reported "bad heap free list" or "addr overflow").
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>

#include "framework/core/error.h"
#include "framework/store/results_store.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::record_of;
using test_util::run_id_of;
using test_util::same_record;
using test_util::ScratchDir;

constexpr int kMaxRunsPerChild = 1000;
// Large enough that HDF5's own writes take a visible share of each mutation, so that kills land
// inside them (an in-place writer fails this test; the atomic one must not).
constexpr int kSites = 96, kExamples = 1500;

RunRecord big_record(int index) { return record_of(index, kSites, kExamples); }

RunRecord completed(int index) {
  RunRecord r = big_record(index);
  r.status = RunStatus::complete;
  return r;
}

// Child body: begin + finish runs first, first+1, ... until killed. Never returns.
[[noreturn]] void write_runs_forever(const std::string& path, int first) {
  int code = 0;
  try {
    ResultsStore store(path);
    for (int i = first; i < first + kMaxRunsPerChild; ++i) {
      store.begin_run(run_id_of(i), begin_attributes_of(i));
      store.finish_run(big_record(i));
    }
  } catch (...) {
    code = 2;
  }
  _exit(code);
}

int index_of(const std::string& run_id) { return std::stoi(run_id.substr(3)) - 1000; }

// Microseconds one begin_run + finish_run pair takes here (on a separate file).
double pair_microseconds(const ScratchDir& dir) {
  ResultsStore store(dir.file("calibration.h5"));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    store.begin_run(run_id_of(i), begin_attributes_of(i));
    store.finish_run(big_record(i));
  }
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 3;
}

TEST(ResultsStoreCrash, SigkillAtAnyMomentLeavesEarlierRunsIntact) {
  // SIGKILL leaves the page cache alone, so fsync plays no part in what this test checks; a
  // memory-backed directory keeps its run time independent of other disk traffic.
  ScratchDir dir(test_util::memory_backed_temp());
  const std::string path = dir.file("results.h5");
  { ResultsStore create(path); }
  const double pair_us = pair_microseconds(dir);
  std::mt19937 rng(20240501);
  // Kill anywhere from before the child opened the store to about three runs in.
  std::uniform_real_distribution<double> delay_us(0.0, std::min(6.0 * pair_us, 200000.0));

  constexpr int kKills = 60;
  std::set<int> complete;
  int next = 0;
  int kills_with_run_in_flight = 0;
  int kills_mid_write = 0;  // a temp copy was left behind: the kill hit inside a mutation
  for (int kill_index = 0; kill_index < kKills; ++kill_index) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) write_runs_forever(path, next);
    usleep(static_cast<useconds_t>(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int wait_status = 0;
    ASSERT_EQ(waitpid(pid, &wait_status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wait_status) || (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0))
        << "writer failed before it was killed (kill " << kill_index << ")";

    SCOPED_TRACE("kill " + std::to_string(kill_index));
    kills_mid_write += std::filesystem::exists(path + ".tmp") ? 1 : 0;
    std::vector<RunRecord> records;
    ASSERT_NO_THROW({
      ResultsStore reopened(path);
      records = reopened.read_all();
    });
    std::set<int> seen;
    std::optional<int> in_flight;
    int newest_complete = next - 1;
    for (const RunRecord& record : records) {
      const int index = index_of(record.run_id);
      seen.insert(index);
      if (complete.count(index)) {
        EXPECT_TRUE(same_record(completed(index), record));
      } else if (record.status == RunStatus::complete) {
        // Finished by this child: it must be one of its runs, written in order, and intact.
        EXPECT_GE(index, next);
        EXPECT_TRUE(same_record(completed(index), record));
        newest_complete = std::max(newest_complete, index);
      } else {
        EXPECT_EQ(record.status, RunStatus::running) << record.run_id;
        EXPECT_FALSE(in_flight.has_value()) << "two incomplete runs: " << *in_flight << " and " << index;
        in_flight = index;
      }
    }
    for (int index : complete) EXPECT_TRUE(seen.count(index)) << "complete run " << index << " vanished";
    // The child's completed runs are exactly next..newest_complete, and the in-flight one follows.
    for (int index = next; index <= newest_complete; ++index) {
      EXPECT_TRUE(seen.count(index)) << "run " << index << " missing";
      complete.insert(index);
    }
    if (in_flight) {
      EXPECT_EQ(*in_flight, newest_complete + 1);
      ++kills_with_run_in_flight;
      // Resume: the incomplete run is redone and completes.
      ResultsStore store(path);
      EXPECT_EQ(store.status(run_id_of(*in_flight)), RunStatus::running);
      store.begin_run(run_id_of(*in_flight), begin_attributes_of(*in_flight));
      store.finish_run(big_record(*in_flight));
      EXPECT_TRUE(same_record(completed(*in_flight), store.read_run(run_id_of(*in_flight))));
      complete.insert(*in_flight);
      newest_complete = *in_flight;
    }
    next = newest_complete + 1;
    if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) break;
  }
  ResultsStore store(path);
  const auto all = store.read_all();
  EXPECT_EQ(all.size(), complete.size());
  EXPECT_EQ(static_cast<int>(complete.size()), next);
  for (const auto& record : all) EXPECT_EQ(record.status, RunStatus::complete);
  // With uniform kill times, about half the kills land between begin_run and finish_run.
  EXPECT_GT(kills_with_run_in_flight, 0);
  std::cout << "[ crash    ] " << kKills << " kills, " << kills_with_run_in_flight << " with a run in flight, "
            << kills_mid_write << " inside a write, "
            << next << " runs complete, one write pair ~" << static_cast<int>(pair_us) << " us\n";
}

TEST(ResultsStoreCrash, SigkillWhileCreatingLeavesNoFileOrAValidStore) {
  ScratchDir dir;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> delay_us(0, 3000);
  for (int attempt = 0; attempt < 12; ++attempt) {
    const std::string path = dir.file("new" + std::to_string(attempt) + ".h5");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        ResultsStore store(path);
      } catch (...) {
        _exit(2);
      }
      _exit(0);
    }
    usleep(static_cast<useconds_t>(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int wait_status = 0;
    ASSERT_EQ(waitpid(pid, &wait_status, 0), pid);
    ASSERT_FALSE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0);
    if (std::filesystem::exists(path)) {
      EXPECT_NO_THROW(ResultsStore(path).run_ids()) << "attempt " << attempt;
    }
    ResultsStore store(path);  // creates it when the child died first
    EXPECT_TRUE(store.run_ids().empty());
  }
}

}  // namespace
}  // namespace abq::store
