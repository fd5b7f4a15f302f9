// Evaluation throughput on one model, in one process, at each thread count asked for:
// perplexity tokens/s with the forward's achieved FLOP/s as a fraction of LibTorch's fp32 GEMM rate
// on the model's own linear shapes, and for every zero_shot entry examples/s with the shared
// context run once per question (EvalContext::prefix_reuse) and once per choice. The last lines
// give each entry's speed-up over the first thread count.
//
//   build/tools/bench/abq_eval_bench tools/bench/eval_speed.yaml [--threads 1,2] [--repeat R]
//
// The experiment file names the model (its quantization keys are ignored: nothing is quantized)
// and the `eval` entries, exactly as `abq eval` reads them.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "evaluators/registry.h"
#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"
#include "framework/core/progress.h"
#include "framework/pipeline/cpu_threads.h"
#include "framework/pipeline/model_loader.h"

namespace {

using abq::evaluators::EvalContext;
using abq::evaluators::Evaluator;
using abq::model::LlamaConfig;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Timed {
  double seconds = 0;
  std::vector<abq::evaluators::Metric> metrics;
  std::vector<double> logliks;  // zero_shot only
};

// The best of `repeat` runs (the minimum is the least disturbed).
Timed run(Evaluator& e, const EvalContext& context, int repeat) {
  Timed best;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    auto metrics = e.evaluate(context);
    const double s = seconds_since(start);
    if (r == 0 || s < best.seconds) best.seconds = s;
    best.metrics = metrics;
  }
  for (const auto& [name, table] : e.tables())
    if (name.rfind("zs_", 0) == 0) best.logliks = table.f64("loglik");
  return best;
}

// The matrix products of one T-token window: every linear of every block, Q·Kᵀ and P·V over the
// full T×T (as the forward computes them), and lm_head on the T-1 scored positions in the
// 64-position slices the perplexity evaluator scores.
struct Gemm {
  int64_t m, k, n, count, batch = 1;  // `batch` products in one call (attention: one per head)
};
std::vector<Gemm> window_gemms(const LlamaConfig& c, int64_t T) {
  const int64_t kv = c.num_kv_heads * c.head_dim, q = c.num_heads * c.head_dim, L = c.num_layers;
  return {{T, c.hidden_size, q, L},          {T, c.hidden_size, kv, 2 * L},
          {T, q, c.hidden_size, L},          {T, c.hidden_size, c.intermediate_size, 2 * L},
          {T, c.intermediate_size, c.hidden_size, L}, {T, c.head_dim, T, L, c.num_heads},
          {T, T, c.head_dim, L, c.num_heads},         {64, c.hidden_size, c.vocab_size, (T - 1 + 63) / 64}};
}
double flops(const std::vector<Gemm>& gemms) {
  double f = 0;
  for (const auto& g : gemms) f += 2.0 * double(g.m * g.k * g.n * g.count * g.batch);
  return f;
}

// LibTorch's fp32 GEMM rate on the same products (one of each shape, timed over enough repeats).
double gemm_rate(const std::vector<Gemm>& gemms) {
  torch::NoGradGuard no_grad;
  double total_flops = 0, total_seconds = 0;
  for (const auto& g : gemms) {
    // Linears as the model runs them (x · Wᵀ), attention as batched products over the heads.
    auto a = g.batch == 1 ? torch::randn({g.m, g.k}) : torch::randn({g.batch, g.m, g.k});
    auto b = g.batch == 1 ? torch::randn({g.n, g.k}).t() : torch::randn({g.batch, g.k, g.n});
    auto out = torch::matmul(a, b);  // warm-up
    const double one = 2.0 * double(g.m * g.k * g.n * g.batch);
    const int reps = int(std::max(3.0, 2e9 / one));
    double best = 0;
    for (int trial = 0; trial < 3; ++trial) {  // the least disturbed of three
      const auto start = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) out = torch::matmul(a, b);
      const double s = seconds_since(start) / reps;
      best = trial == 0 ? s : std::min(best, s);
    }
    total_seconds += best * double(g.count);
    total_flops += one * double(g.count);
  }
  return total_flops / total_seconds;
}

struct Entry {
  std::string label;
  std::map<int, double> rate;  // threads -> tokens/s or examples/s (reuse on)
};

void perplexity_line(const abq::pipeline::ComponentSpec& spec, const Timed& t, const LlamaConfig& config,
                     double gemm_flops, Entry& entry) {
  const int64_t seqlen = spec.options["seqlen"] ? spec.options["seqlen"].as<int64_t>() : 2048;
  const auto& m = t.metrics.front();
  const double tokens_per_s = double(m.n * seqlen) / t.seconds;
  const double achieved = flops(window_gemms(config, seqlen)) * double(m.n) / t.seconds;
  std::printf("perplexity %-14s %3lld windows x %lld tokens  %8.2f s  %8.1f tokens/s  ppl %.3f  "
              "%.1f GFLOP/s = %.0f %% of the GEMM rate (%.1f GFLOP/s)\n",
              m.dataset.c_str(), (long long)m.n, (long long)seqlen, t.seconds, tokens_per_s, m.value, achieved / 1e9,
              100.0 * achieved / gemm_flops, gemm_flops / 1e9);
  entry.label = "perplexity " + m.dataset + " tokens/s";
  entry.rate[0] = tokens_per_s;
}

void zero_shot_lines(const std::string& task, const Timed& on, const Timed& off, Entry& entry) {
  const int64_t n = on.metrics.front().n;
  double diff = 0;
  for (size_t i = 0; i < on.logliks.size() && i < off.logliks.size(); ++i)
    diff = std::max(diff, std::abs(on.logliks[i] - off.logliks[i]));
  std::printf("zero_shot  %-14s %4lld examples  reuse off %8.2f s %7.2f ex/s | reuse on %8.2f s %7.2f ex/s | "
              "speed-up %.2fx  max |dll| %.2e  acc %.3f / %.3f\n",
              task.c_str(), (long long)n, off.seconds, double(n) / off.seconds, on.seconds, double(n) / on.seconds,
              off.seconds / on.seconds, diff, off.metrics.front().value, on.metrics.front().value);
  entry.label = "zero_shot " + task + " ex/s (reuse on)";
  entry.rate[0] = double(n) / on.seconds;
}

std::vector<int> parse_threads(const std::string& list) {
  std::vector<int> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

int bench(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: abq_eval_bench EXPERIMENT.yaml [--threads 1,2] [--repeat R]\n";
    return 2;
  }
  const int cores = abq::pipeline::available_cores();
  std::vector<int> thread_counts = cores > 1 ? std::vector<int>{1, cores} : std::vector<int>{1};
  int repeat = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") thread_counts = parse_threads(argv[i + 1]);
    else if (flag == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    else throw abq::ConfigError("abq_eval_bench: unknown option '" + flag + "'; allowed: --threads, --repeat");
  }
  abq::Progress::set_enabled(false);
  auto spec = abq::runner::load_experiment(argv[1], {}, true).front();
  auto loaded = abq::pipeline::load_model(spec);
  EvalContext context{*loaded.model, *loaded.tokenizer, loaded.tokenizer_sha256, "A16KV16"};
  const LlamaConfig& config = loaded.model->config();
  std::printf("model %s, %d cores available, best of %d\n", loaded.weights_note.c_str(), cores, repeat);
  std::vector<std::vector<Entry>> per_threads;
  for (int threads : thread_counts) {
    const auto cpu = abq::pipeline::configure_cpu_threads(threads);
    std::printf("-- %s\n", cpu.description.c_str());
    std::vector<Entry> entries;
    for (const auto& e : spec.eval) {
      auto evaluator = abq::evaluators::make_evaluator(e.type, e.options,
                                                       [&](const std::string& p) { return spec.resolve_path(p); });
      Entry entry;
      if (e.type == "perplexity") {
        const int64_t seqlen = e.options["seqlen"] ? e.options["seqlen"].as<int64_t>() : 2048;
        const double rate = gemm_rate(window_gemms(config, seqlen));
        perplexity_line(e, run(*evaluator, context, repeat), config, rate, entry);
      } else if (e.type == "zero_shot") {
        context.prefix_reuse = false;
        const Timed off = run(*evaluator, context, repeat);
        context.prefix_reuse = true;
        const Timed on = run(*evaluator, context, repeat);
        zero_shot_lines(e.options["task"].as<std::string>(), on, off, entry);
      } else {
        continue;
      }
      entries.push_back(entry);
    }
    per_threads.push_back(entries);
  }
  for (size_t t = 1; t < per_threads.size(); ++t)
    for (size_t i = 0; i < per_threads[t].size(); ++i)
      std::printf("scaling %-40s %d -> %d threads: %.2fx\n", per_threads[t][i].label.c_str(), thread_counts[0],
                  thread_counts[t], per_threads[t][i].rate[0] / per_threads[0][i].rate[0]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "abq_eval_bench: " << e.what() << "\n";
    return 1;
  }
}
