// A store write that runs out of space: the writer must fail with an abq::Error naming the file and
// the failed call, never crash (HDF5 1.10 used to crash on its own failed close, then on closing
// again), and the store must still hold exactly what it held before. Space runs out at every
// point of the write in turn: first through RLIMIT_FSIZE (writes past the limit fail with EFBIG;
// needs no privileges), then, where this process may mount one, on a real full tmpfs (ENOSPC).
// Expected values: the records written before (store_test_util.h), and the property itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

#include "framework/core/error.h"
#include "framework/store/results_store.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::read_bytes;
using test_util::record_of;
using test_util::run_id_of;
using test_util::same_record;
using test_util::ScratchDir;

constexpr int kEarlierRuns = 2, kNewRun = 7;
constexpr int kChildWrote = 0, kChildFailedClearly = 10, kChildFailedUnclearly = 11;

RunRecord big(int index) { return record_of(index, 64, 400); }

void fill_store(const std::string& path) {
  ResultsStore store(path);
  for (int i = 0; i < kEarlierRuns; ++i) {
    store.begin_run(run_id_of(i), begin_attributes_of(i));
    store.finish_run(big(i));
  }
}

// Child: begin and finish one more run after `limit_space()`; exits through exit() so that
// HDF5's own clean-up at exit runs too (a crash there counts).
[[noreturn]] void write_one_run(const std::string& path, const std::function<void()>& limit_space) {
  limit_space();
  int code = kChildWrote;
  try {
    ResultsStore store(path);
    store.begin_run(run_id_of(kNewRun), begin_attributes_of(kNewRun));
    store.finish_run(big(kNewRun));
  } catch (const Error& e) {
    const std::string text = e.what();
    const bool names_file = text.find("results store '" + path + "'") != std::string::npos &&
                            text.find("'" + path + ".tmp'") != std::string::npos;
    const bool names_call = text.find("cannot write") != std::string::npos ||
                            text.find("cannot fsync") != std::string::npos ||
                            text.find("cannot create") != std::string::npos;
    code = names_file && names_call ? kChildFailedClearly : kChildFailedUnclearly;
    if (code == kChildFailedUnclearly) fprintf(stderr, "unclear error: %s\n", text.c_str());
  }
  std::exit(code);
}

// The store after a child's attempt: earlier runs intact, the new run absent, running (begin
// landed, finish did not) or complete, and no temporary file left.
void expect_store_intact(const std::string& path, int child_code) {
  ResultsStore store(path);
  auto all = store.read_all();
  ASSERT_GE(all.size(), size_t(kEarlierRuns));
  for (int i = 0; i < kEarlierRuns; ++i) {
    RunRecord expected = big(i);
    expected.status = RunStatus::complete;
    EXPECT_TRUE(same_record(expected, all[i]));
  }
  auto status = store.status(run_id_of(kNewRun));
  if (child_code == kChildWrote) {
    EXPECT_EQ(status, RunStatus::complete);
  } else {
    EXPECT_NE(status, RunStatus::complete);
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

// Runs the child under each space limit; returns how many attempts failed (cleanly).
int sweep(const std::string& path, const std::vector<std::function<void()>>& limits,
          const std::function<void()>& before_each, const std::function<void()>& after_each) {
  const std::string original = read_bytes(path);
  int failed = 0;
  for (size_t attempt = 0; attempt < limits.size(); ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    test_util::write_bytes(path, original);
    before_each();
    const pid_t pid = fork();
    if (pid == 0) write_one_run(path, limits[attempt]);
    int wait_status = 0;
    EXPECT_EQ(waitpid(pid, &wait_status, 0), pid);
    after_each();
    EXPECT_TRUE(WIFEXITED(wait_status)) << "writer died of signal " << WTERMSIG(wait_status);
    if (!WIFEXITED(wait_status)) return failed;
    const int code = WEXITSTATUS(wait_status);
    EXPECT_TRUE(code == kChildWrote || code == kChildFailedClearly) << "exit code " << code;
    failed += code != kChildWrote;
    expect_store_intact(path, code);
    if (::testing::Test::HasFailure()) return failed;
  }
  return failed;
}

TEST(ResultsStoreDiskFull, FileSizeLimitAtEveryPointOfAWriteFailsCleanly) {
  ScratchDir dir(test_util::memory_backed_temp());
  const std::string path = dir.file("results.h5");
  fill_store(path);
  // A complete write of the new run makes a file this large; limits from 0 to past it.
  const size_t full = [&] {
    ScratchDir probe(test_util::memory_backed_temp());
    const std::string copy = probe.file("results.h5");
    test_util::write_bytes(copy, read_bytes(path));
    ResultsStore store(copy);
    store.begin_run(run_id_of(kNewRun), begin_attributes_of(kNewRun));
    store.finish_run(big(kNewRun));
    return read_bytes(copy).size();
  }();
  std::vector<std::function<void()>> limits;
  constexpr int kSteps = 48;
  for (int step = 0; step <= kSteps; ++step) {
    const rlim_t bytes = static_cast<rlim_t>(full * step / (kSteps - 4));  // the last steps allow the write
    limits.push_back([bytes] {
      signal(SIGXFSZ, SIG_IGN);  // writes past the limit then fail with EFBIG instead of killing
      rlimit limit{bytes, bytes};
      setrlimit(RLIMIT_FSIZE, &limit);
    });
  }
  const int failed = sweep(path, limits, [] {}, [] {});
  EXPECT_GT(failed, kSteps / 2);
  EXPECT_LT(failed, kSteps + 1);
  std::cout << "[ diskfull ] " << limits.size() << " file-size limits, " << failed << " writes refused cleanly\n";
}

// A tmpfs mounted for the test and unmounted afterwards; `mounted` is false where mounting is not
// permitted (no CAP_SYS_ADMIN), and the test skips.
class SmallTmpfs {
 public:
  SmallTmpfs() {
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=1m,mode=0700") == 0) {
      mounted_ = true;
    } else {
      why_ = std::strerror(errno);
    }
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  std::string file(const std::string& name) const { return dir_.file(name); }
  size_t free_bytes() const {
    struct statvfs info {};
    ::statvfs(dir_.path().c_str(), &info);
    return static_cast<size_t>(info.f_bavail) * info.f_bsize;
  }

 private:
  ScratchDir dir_;
  bool mounted_ = false;
  std::string why_;
};

TEST(ResultsStoreDiskFull, FullTmpfsAtEveryPointOfAWriteFailsCleanly) {
  SmallTmpfs disk;
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.why() << "); the file-size test covers it";
  const std::string path = disk.file("results.h5");
  fill_store(path);
  const std::string filler = disk.file("filler");
  const size_t store_bytes = read_bytes(path).size();
  // Leave `free` bytes for the write (which needs about twice the store: the copy beside it).
  std::vector<size_t> free_space;
  for (size_t free = 0; free < 3 * store_bytes; free += 4096) free_space.push_back(free);
  size_t attempt = 0;
  std::vector<std::function<void()>> limits(free_space.size(), [] {});
  const int failed = sweep(
      path, limits,
      [&] {
        const size_t available = disk.free_bytes();
        const size_t fill = available > free_space[attempt] ? available - free_space[attempt] : 0;
        test_util::write_bytes(filler, std::string(fill, 'x'));
      },
      [&] {
        std::filesystem::remove(filler);
        ++attempt;
      });
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, static_cast<int>(free_space.size()));
  std::cout << "[ diskfull ] tmpfs: " << free_space.size() << " free-space levels, " << failed
            << " writes refused cleanly\n";
}

}  // namespace
}  // namespace abq::store
