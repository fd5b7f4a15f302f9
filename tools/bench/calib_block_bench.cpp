// Calibration time per decoder block on a LLaMA-shaped block with random weights, and the
// projection to a whole model.
//
//   build/tools/bench/abq_calib_bench [--method abq_llm|gptq] [--hidden 4096] [--ffn 11008]
//       [--heads 32] [--kv-heads 32] [--tokens 2048] [--windows 4] [--epochs 2] [--layers 32]
//       [--threads N] [--device cpu|cuda]
//
// abq_llm (default): ABQ-LLM W4A4 learned calibration. After a warm-up run, runs the learned
// calibrator through calibrate_blocks on a 1-block model with `epochs` and 2·`epochs`, so the
// difference is the training time of `epochs` epochs alone (teacher passes and stream updates
// cancel out). Prints seconds per optimizer step, the
// projected time of one block and of the whole model at the paper's schedule (128 windows × 20
// epochs, batch 1), and the peak resident memory.
// gptq: GPTQ W4 per-channel (true-sequential, as the GPTQ repository's llama.py) over `windows`
// windows: the whole block, Hessians, the seven linears and the stream passes, best of 3.
// tools/bench/torch_calib_block.py times the PyTorch reference loops on the same shapes.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "framework/calib/calibrate_blocks.h"
#include "framework/calib/closed_form_calibrator.h"
#include "framework/calib/learned_calibrator.h"
#include "framework/core/log.h"
#include "framework/methods/quantizers/gptq.h"
#include "framework/pipeline/cpu_threads.h"

namespace {

struct Args {
  int64_t hidden = 4096, ffn = 11008, heads = 32, kv_heads = 32, tokens = 2048, windows = 4, epochs = 2, layers = 32;
  int threads = 0;  // 0: every core
  std::string method = "abq_llm", device = "cpu";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--hidden") a.hidden = std::atoll(v);
    else if (k == "--ffn") a.ffn = std::atoll(v);
    else if (k == "--heads") a.heads = std::atoll(v);
    else if (k == "--kv-heads") a.kv_heads = std::atoll(v);
    else if (k == "--tokens") a.tokens = std::atoll(v);
    else if (k == "--windows") a.windows = std::atoll(v);
    else if (k == "--epochs") a.epochs = std::atoll(v);
    else if (k == "--layers") a.layers = std::atoll(v);
    else if (k == "--threads") a.threads = std::atoi(v);
    else if (k == "--method") a.method = v;
    else if (k == "--device") a.device = v;
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); std::exit(2); }
  }
  if (a.method != "abq_llm" && a.method != "gptq") {
    std::fprintf(stderr, "--method: expected abq_llm or gptq, got %s\n", a.method.c_str());
    std::exit(2);
  }
  return a;
}

abq::methods::LearnedOptions abq_llm(int64_t epochs) {
  abq::methods::LearnedOptions o;  // configs/methods/abq_llm.yaml
  o.epochs = epochs;
  o.let = true;
  o.pairs.fc2 = true;
  o.compensation = true;
  o.loss.aug_mse = o.loss.dlc = o.loss.attention_kl = true;
  return o;
}

abq::calib::SpecForSite w4a4() {
  return [](const std::string& site) {
    abq::quant::QuantSpec s;
    s.bits = 4;
    const bool weight = site.size() > 7 && site.compare(site.size() - 7, 7, ".weight") == 0;
    s.granularity = weight ? abq::quant::Granularity::per_channel : abq::quant::Granularity::per_token;
    return s;
  };
}

struct Block {
  abq::model::LlamaModel model;
  std::vector<torch::Tensor> windows;
};

Block random_block(const Args& a) {
  abq::model::LlamaConfig c;
  c.vocab_size = 256;  // the embedding is not part of a block
  c.hidden_size = a.hidden;
  c.intermediate_size = a.ffn;
  c.num_layers = 1;
  c.num_heads = a.heads;
  c.num_kv_heads = a.kv_heads;
  Block b{abq::model::make_random_model(c, 1), {}};
  b.model.to(torch::Device(a.device), torch::kFloat32);
  for (int64_t i = 0; i < a.windows; ++i) b.windows.push_back(torch::randint(0, 256, {1, a.tokens}, torch::kInt64));
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double learned_seconds(const Args& a, int64_t epochs) {
  Block b = random_block(a);
  abq::calib::CalibOptions options;
  options.measure_local_error = true;
  const auto start = std::chrono::steady_clock::now();
  abq::calib::LearnedCalibrator learned(abq_llm(epochs));
  abq::calib::calibrate_blocks(b.model, w4a4(), learned, b.windows, options);
  return seconds_since(start);
}

double gptq_seconds(const Args& a) {
  Block b = random_block(a);
  const abq::calib::SpecForSite w4 = [](const std::string& site) {
    abq::quant::QuantSpec s;
    s.bits = site.size() > 7 && site.compare(site.size() - 7, 7, ".weight") == 0 ? 4 : 16;
    s.granularity = abq::quant::Granularity::per_channel;
    return s;
  };
  abq::methods::GptqQuantizer gptq;
  abq::calib::ClosedFormCalibrator closed_form(gptq);
  const auto start = std::chrono::steady_clock::now();
  abq::calib::calibrate_blocks(b.model, w4, closed_form, b.windows);
  return seconds_since(start);
}

void report_gptq(const Args& a) {
  double best = 1e300;
  for (int i = 0; i < 3; ++i) best = std::min(best, gptq_seconds(a));
  std::printf("gptq W4 per-channel, one block over %lld windows: %.3f s (best of 3); %lld blocks: %.1f s\n",
              (long long)a.windows, best, (long long)a.layers, best * double(a.layers));
}

void report_learned(const Args& a) {
  learned_seconds(a, 1);  // warm-up (allocator, autograd), not timed
  const double once = learned_seconds(a, a.epochs);
  const double twice = learned_seconds(a, 2 * a.epochs);
  const double per_epoch = (twice - once) / double(a.epochs);
  const double per_step = per_epoch / double(a.windows);
  const double overhead = once - per_epoch * double(a.epochs);  // teacher passes, init, bake, streams
  const double paper_block = per_step * 128 * 20 + overhead * 128.0 / double(a.windows);
  std::printf("run with %lld epochs: %.2f s; with %lld: %.2f s\n", (long long)a.epochs, once, (long long)(2 * a.epochs), twice);
  std::printf("per optimizer step (1 window of %lld tokens): %.3f s\n", (long long)a.tokens, per_step);
  std::printf("per block at 128 windows x 20 epochs: %.1f s; %lld blocks: %.2f h\n", paper_block, (long long)a.layers,
              paper_block * double(a.layers) / 3600.0);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  abq::set_log_level(abq::LogLevel::warn);
  abq::pipeline::configure_cpu_threads(a.threads);  // as the abq CLI does
  torch::manual_seed(0);
  std::printf("%s: block C %lld F %lld H %lld Hkv %lld, %lld windows x %lld tokens, device %s, threads %d\n",
              a.method.c_str(), (long long)a.hidden, (long long)a.ffn, (long long)a.heads, (long long)a.kv_heads,
              (long long)a.windows, (long long)a.tokens, a.device.c_str(), torch::get_num_threads());
  if (a.method == "gptq") report_gptq(a);
  else report_learned(a);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak resident memory: %.1f MiB\n", double(usage.ru_maxrss) / 1024.0);
  return 0;
}
