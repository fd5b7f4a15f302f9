// Evaluation throughput on one model, in one process: perplexity tokens/s, and for every zero_shot
// entry examples/s with the shared context run once per question (EvalContext::prefix_reuse) and
// once per choice, their ratio and the largest per-request log-likelihood difference between them.
//
//   build-<you>/tools/bench/abq_eval_bench tools/bench/eval_speed.yaml [--threads N] [--repeat R]
//
// The experiment file names the model (its quantization keys are ignored: nothing is quantized)
// and the `eval` entries, exactly as `abq eval` reads them.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "evaluators/registry.h"
#include "framework/core/error.h"
#include "framework/core/progress.h"
#include "framework/pipeline/experiment_spec.h"
#include "framework/pipeline/model_loader.h"

namespace {

using abq::evaluators::EvalContext;
using abq::evaluators::Evaluator;

struct Timed {
  double seconds = 0;
  std::vector<abq::evaluators::Metric> metrics;
  std::vector<double> logliks;  // zero_shot only
};

// The best of `repeat` runs (the machine is shared; the minimum is the least disturbed).
Timed run(Evaluator& e, const EvalContext& context, int repeat) {
  Timed best;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    auto metrics = e.evaluate(context);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r == 0 || s < best.seconds) best.seconds = s;
    best.metrics = metrics;
  }
  for (const auto& [name, table] : e.tables())
    if (name.rfind("zs_", 0) == 0) best.logliks = table.f64("loglik");
  return best;
}

void perplexity_line(const abq::pipeline::ComponentSpec& spec, const Timed& t) {
  const int64_t seqlen = spec.options["seqlen"] ? spec.options["seqlen"].as<int64_t>() : 2048;
  const auto& m = t.metrics.front();
  std::printf("perplexity %-14s %3lld windows x %lld tokens  %8.2f s  %8.1f tokens/s  ppl %.3f\n",
              m.dataset.c_str(), (long long)m.n, (long long)seqlen, t.seconds, double(m.n * seqlen) / t.seconds,
              m.value);
}

void zero_shot_lines(const std::string& task, const Timed& on, const Timed& off) {
  const int64_t n = on.metrics.front().n;
  double diff = 0;
  for (size_t i = 0; i < on.logliks.size() && i < off.logliks.size(); ++i)
    diff = std::max(diff, std::abs(on.logliks[i] - off.logliks[i]));
  std::printf("zero_shot  %-14s %4lld examples  reuse off %8.2f s %7.2f ex/s | reuse on %8.2f s %7.2f ex/s | "
              "speed-up %.2fx  max |dll| %.2e  acc %.3f / %.3f\n",
              task.c_str(), (long long)n, off.seconds, double(n) / off.seconds, on.seconds, double(n) / on.seconds,
              off.seconds / on.seconds, diff, off.metrics.front().value, on.metrics.front().value);
}

int bench(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: abq_eval_bench EXPERIMENT.yaml [--threads N] [--repeat R]\n";
    return 2;
  }
  int threads = int(std::max(1u, std::thread::hardware_concurrency())), repeat = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else if (flag == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    else throw abq::ConfigError("abq_eval_bench: unknown option '" + flag + "'; allowed: --threads, --repeat");
  }
  torch::set_num_threads(threads);
  abq::Progress::set_enabled(false);
  auto spec = abq::pipeline::load_experiment(argv[1], {}, true).front();
  auto loaded = abq::pipeline::load_model(spec);
  EvalContext context{*loaded.model, *loaded.tokenizer, loaded.tokenizer_sha256, "W16A16KV16"};
  std::printf("model %s, %d threads, best of %d\n", loaded.weights_note.c_str(), threads, repeat);
  for (const auto& e : spec.eval) {
    auto evaluator = abq::evaluators::make_evaluator(e.type, e.options,
                                                     [&](const std::string& p) { return spec.resolve_path(p); });
    if (e.type != "zero_shot") {
      if (e.type == "perplexity") perplexity_line(e, run(*evaluator, context, repeat));
      continue;
    }
    context.prefix_reuse = false;
    const Timed off = run(*evaluator, context, repeat);
    context.prefix_reuse = true;
    const Timed on = run(*evaluator, context, repeat);
    zero_shot_lines(e.options["task"].as<std::string>(), on, off);
  }
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
