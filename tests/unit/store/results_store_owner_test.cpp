// Run ownership: a running run records the process that began it (host, pid, process start), and
// another process may take it over only when that owner is dead. Expected values: the pids of the
// child processes the test starts and the error texts in results_store.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "framework/core/error.h"
#include "framework/store/hdf5_io.h"
#include "framework/store/results_store.h"
#include "framework/store/run_owner.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::error_text;
using test_util::read_bytes;
using test_util::record_of;
using test_util::run_id_of;
using test_util::ScratchDir;
using test_util::write_bytes;

// A child that begins run `index` in `path`, reports it through a pipe and then waits to be killed.
pid_t begin_in_child(const std::string& path, int index) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    char ok = 1;
    try {
      ResultsStore(path).begin_run(run_id_of(index), begin_attributes_of(index));
    } catch (...) {
      ok = 0;
    }
    if (write(ready[1], &ok, 1) != 1) _exit(3);
    while (true) pause();
  }
  close(ready[1]);
  char ok = 0;
  EXPECT_EQ(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  EXPECT_EQ(ok, 1);
  return pid;
}

TEST(ResultsStoreOwner, ARunHeldByALiveProcessIsNeverTakenOver) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const pid_t owner = begin_in_child(path, 1);
  ResultsStore store(path);
  const RunRecord held = store.read_run(run_id_of(1));
  EXPECT_EQ(held.attributes.at("owner_pid"), std::to_string(owner));
  EXPECT_EQ(held.attributes.at("owner_host"), this_process_owner().host);

  const std::string bytes = read_bytes(path);
  const std::string who = "process " + std::to_string(owner) + " on host " + this_process_owner().host +
                          " (begun " + held.attributes.at("started") + ")";
  EXPECT_EQ(error_text([&] { store.begin_run(run_id_of(1), begin_attributes_of(1)); }),
            "beginning run 'run1001' in results store '" + path + "'\n  run 'run1001' is in progress in " + who +
                "; a run held by a live process is never taken over. Wait for it to finish (abq run skips a "
                "complete run), or stop that process and run again to resume it");
  EXPECT_NE(error_text([&] { store.fail_run(run_id_of(1), "not mine"); }).find("is never marked failed"),
            std::string::npos);
  EXPECT_NE(error_text([&] { store.finish_run(record_of(1)); })
                .find("run 'run1001' is held by " + who + ", not by this process"),
            std::string::npos);
  Table t;
  t.add_i64("x", {1});
  EXPECT_NE(error_text([&] { store.write_table(run_id_of(1), "partial", t); }).find("not by this process"),
            std::string::npos);
  EXPECT_EQ(read_bytes(path), bytes);

  // Dead but not yet reaped (a zombie) is dead too.
  kill(owner, SIGKILL);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, owner, &info, WEXITED | WNOWAIT), 0);
  store.begin_run(run_id_of(1), begin_attributes_of(1));
  EXPECT_EQ(store.read_run(run_id_of(1)).attributes.at("owner_pid"), std::to_string(getpid()));
  store.finish_run(record_of(1));
  EXPECT_EQ(store.status(run_id_of(1)), RunStatus::complete);
  waitpid(owner, nullptr, 0);
}

TEST(ResultsStoreOwner, ARunOfAReapedOwnerIsResumed) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const pid_t owner = begin_in_child(path, 2);
  kill(owner, SIGKILL);
  waitpid(owner, nullptr, 0);
  ResultsStore store(path);
  store.begin_run(run_id_of(2), begin_attributes_of(2));
  store.finish_run(record_of(2));
  EXPECT_EQ(store.status(run_id_of(2)), RunStatus::complete);
}

TEST(ResultsStoreOwner, OwnerAttributesAreTheStoresOwn) {
  ScratchDir dir;
  ResultsStore store(dir.file("results.h5"));
  EXPECT_NE(error_text([&] { store.begin_run("a", {{"owner_pid", "1"}}); }).find("is set by the store"),
            std::string::npos);
}

TEST(ResultsStoreOwner, ARunOnAnotherHostIsNotTakenOver) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  { ResultsStore store(path); }
  // Written by another HDF5 writer (unsealed): a running run begun on host "elsewhere".
  std::string bytes = read_bytes(path);
  write_bytes(path, bytes.substr(0, bytes.size() - 117));
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    H5::Group run = file.openGroup("runs").createGroup("r");
    h5::write_string_attr(run, "status", "running");
    h5::write_string_attr(run, "owner_host", "elsewhere");
    h5::write_string_attr(run, "owner_pid", "1");
  }
  EXPECT_NE(error_text([&] { ResultsStore(path).begin_run("r", {}); })
                .find("run 'r' is running in process 1 on host elsewhere, and from host '" +
                      this_process_owner().host + "' abq cannot tell whether that process is alive"),
            std::string::npos);
  // A sole writer (a sweep's task restarted on another node) takes it over; the record starts afresh.
  ResultsStore sole(path);
  sole.set_sole_writer(true);
  sole.begin_run("r", {});
  EXPECT_EQ(sole.read_run("r").attributes.at("owner_host"), this_process_owner().host);
}

TEST(ResultsStoreOwner, ThisProcessIsRecognised) {
  EXPECT_EQ(owner_state(this_process_owner()), OwnerState::this_process);
  RunOwner recycled = this_process_owner();
  recycled.process_start += "0";  // same pid, other start: a recycled pid
  EXPECT_EQ(owner_state(recycled), OwnerState::dead);
}

}  // namespace
}  // namespace abq::store
