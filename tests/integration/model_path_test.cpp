// `--model` / model.path naming something that is not a checkpoint file or folder (a FIFO, a
// directory where a GGUF file is expected) fails at once with the path and its type, instead of
// blocking on the FIFO forever. Expected values: the file types the test creates (mkfifo, mkdir);
// the message text is pinned. Each command runs under a deadline (coreutils `timeout`, exit 124).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_pipeline.yaml";

struct Result {
  int code;
  std::string output;
};

Result run_abq_with_deadline(const std::string& args) {
  const std::string command = "timeout -s KILL 60 " + std::string(ABQ_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) output.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string temp_dir() {
  const std::string dir = ::testing::TempDir() + "abq_model_path_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST(ModelPath, FifoOrDirectoryFailsAtOnceNamingTheType) {
  const std::string dir = temp_dir();
  const std::string fifo_gguf = dir + "/model.gguf", fifo = dir + "/model_folder";
  ASSERT_EQ(::mkfifo(fifo_gguf.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directories(dir + "/folder.gguf");
  const std::string results = " --results " + dir + "/results.h5 -q";

  auto gguf = run_abq_with_deadline("eval " + kFixture + " --model " + fifo_gguf + results);
  EXPECT_EQ(gguf.code, 1) << gguf.output;  // 137: still blocked at the deadline
  EXPECT_TRUE(contains(gguf.output, "model.path (a GGUF file) '" + fifo_gguf + "' is a FIFO; expected a regular file"))
      << gguf.output;

  auto hf = run_abq_with_deadline("eval " + kFixture + " --model " + fifo + results);
  EXPECT_EQ(hf.code, 1) << hf.output;
  EXPECT_TRUE(contains(hf.output, "model.path (an HF checkpoint folder) '" + fifo + "' is a FIFO; expected a directory"))
      << hf.output;

  auto folder = run_abq_with_deadline("eval " + kFixture + " --model " + dir + "/folder.gguf" + results);
  EXPECT_EQ(folder.code, 1) << folder.output;
  EXPECT_TRUE(contains(folder.output, "'" + dir + "/folder.gguf' is a directory; expected a regular file"))
      << folder.output;
  fs::remove_all(dir);
}
