// abq bench EXPERIMENT.yaml: memory and speed of packed vs simulated execution, measured in one
// process (a benchmark that prints figures, not a test). For every run of the experiment:
//   the model: resident bytes of the quantized linears' weights (fp32 fake weights vs packed codes,
//     scales and zero-points), and tokens/s of a forward of M tokens (M = 512: prefill; M = 1: one
//     token as decode sees it, without a KV cache), simulated and packed (quant.execution);
//   --linears NxK,...: random linears [N, K] with the run's weight and activation specs (e.g. the
//     LLaMA-7B shapes 4096x4096, 11008x4096, 4096x11008), the same figures per linear.
// Times are medians of --repeats calls after one warm-up, on --threads threads.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/progress.h"
#include "framework/core/text_table.h"
#include "framework/packed/packed_gemm.h"
#include "framework/packed/packed_linear.h"
#include "framework/pipeline/cpu_threads.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/quantize_model.h"
#include "framework/quant/fake_quant.h"

namespace abq::cli {
namespace {

std::vector<int64_t> int_list(const std::string& text, char sep, const char* what) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) {
    try {
      out.push_back(std::stoll(item));
    } catch (const std::exception&) {
      throw ConfigError(cat(what, ": '", item, "' in '", text, "' is not an integer"));
    }
    if (out.back() < 1) throw ConfigError(cat(what, ": ", out.back(), " must be >= 1"));
  }
  return out;
}

// Median seconds of `repeats` calls of f after one warm-up.
template <typename F>
double median_seconds(int repeats, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::string rate(double tokens, double seconds) {
  std::ostringstream out;
  out.precision(4);
  out << tokens / seconds;
  return out.str();
}

struct Row {
  std::string what;
  int64_t fp_bytes = 0, packed_bytes = 0;
  std::vector<std::string> rates;  // per M: simulated, packed
};

// One random linear [n, k] with the run's specs.
Row bench_linear(int64_t n, int64_t k, const pipeline::QuantPlanSpec& plan, const std::vector<int64_t>& ms, int repeats) {
  torch::NoGradGuard no_grad;
  quant::FakeQuantOptions with_codes;
  with_codes.with_codes = true;
  const auto w = torch::randn({n, k}) * 0.02;
  const auto q = quant::fake_quant(w, plan.weights, with_codes);
  const auto packed = packed::make_packed_linear(packed::pack_quantized(plan.weights, q.codes, q.scale, q.zero),
                                                 plan.activations);
  const bool hook = plan.activations.enabled() && !packed->activations().enabled();  // not fused: a hook in front
  Row row{cat("linear ", n, "x", k), n * k * 4, packed->resident_bytes(), {}};
  for (int64_t m : ms) {
    const auto x = torch::randn({m, k});
    auto input = [&](const torch::Tensor& t) { return plan.activations.enabled() ? quant::fake_quant(t, plan.activations).fake : t; };
    row.rates.push_back(rate(double(m), median_seconds(repeats, [&] { torch::linear(input(x), q.fake); })));
    row.rates.push_back(rate(double(m), median_seconds(repeats, [&] { packed->forward(hook ? input(x) : x, {}); })));
  }
  return row;
}

// Resident bytes of the quantized linears: their fp32 fake weights, or their packed form.
std::pair<int64_t, int64_t> linear_bytes(const model::LlamaModel& sim, const model::LlamaModel& packed) {
  int64_t fp = 0, codes = 0;
  for (size_t i = 0; i < packed.weights().layers.size(); ++i)
    for (auto kind : model::all_linear_kinds()) {
      const auto& p = packed.weights().layers[i].linear(kind);
      if (p.weight.defined()) continue;  // an fp linear in both
      fp += sim.weights().layers[i].linear(kind).weight.numel() * 4;
      codes += p.packed->resident_bytes();
    }
  return {fp, codes};
}

Row bench_model(const pipeline::ExperimentSpec& spec, const std::vector<int64_t>& ms, int repeats) {
  torch::NoGradGuard no_grad;
  auto sim_spec = spec, packed_spec = spec;
  sim_spec.quant.execution = "simulated";
  packed_spec.quant.execution = "packed";
  auto sim = pipeline::load_model(sim_spec), packed = pipeline::load_model(packed_spec);
  pipeline::quantize_model(*sim.model, sim_spec.quant, {});
  pipeline::quantize_model(*packed.model, packed_spec.quant, {});
  const auto [fp, codes] = linear_bytes(*sim.model, *packed.model);
  Row row{"model " + spec.model.source, fp, codes, {}};
  const int64_t vocab = sim.model->config().vocab_size;
  for (int64_t m : ms) {
    const auto tokens = torch::randint(0, vocab, {1, m}, torch::kInt64);
    row.rates.push_back(rate(double(m), median_seconds(repeats, [&] { sim.model->forward(tokens); })));
    row.rates.push_back(rate(double(m), median_seconds(repeats, [&] { packed.model->forward(tokens); })));
  }
  return row;
}

}  // namespace

int cmd_bench(const Args& args) {
  po::options_description options("options");
  std::string file, linears, m_text;
  std::vector<std::string> overrides;
  int threads = 0, repeats = 3;
  bool no_model = false;
  options.add_options()
      ("file", po::value(&file)->required(), "experiment YAML file (its model and each run's quant specs)")
      ("linears", po::value(&linears)->default_value(""), "random linears NxK,... with each run's specs, e.g. 4096x4096,11008x4096,4096x11008")
      ("m", po::value(&m_text)->default_value("512,1"), "token counts M per forward (512: prefill, 1: decode)")
      ("repeats", po::value(&repeats)->default_value(3), "timed calls per figure (median), after one warm-up")
      ("no-model", po::bool_switch(&no_model), "only the random linears")
      ("set", po::value(&overrides)->composing(), "override a config key (repeatable)")
      ("threads", po::value(&threads)->default_value(0), "CPU threads (0: every core this process may use)");
  po::variables_map values;
  if (!parse_args("bench", "EXPERIMENT.yaml [--linears NxK,...] [--m 512,1]", args, options, values, "file")) return kExitOk;
  Progress::set_enabled(false);
  set_log_level(LogLevel::warn);
  const std::string compute = pipeline::configure_cpu_threads(threads).description;
  const auto ms = int_list(m_text, ',', "--m");
  std::vector<std::pair<int64_t, int64_t>> shapes;
  if (!linears.empty()) {
    std::stringstream in(linears);
    std::string item;
    while (std::getline(in, item, ',')) {
      const auto x = item.find('x');
      if (x == std::string::npos) throw ConfigError(cat("--linears: '", item, "' is not NxK"));
      const auto n = int_list(item.substr(0, x), ',', "--linears"), k = int_list(item.substr(x + 1), ',', "--linears");
      shapes.push_back({n.at(0), k.at(0)});
    }
  }
  std::vector<std::string> header = {"run", "what", "fp32 bytes", "packed bytes"};
  for (int64_t m : ms)
    for (const char* mode : {"simulated", "packed"}) header.push_back(cat("M=", m, " ", mode, " tok/s"));
  TextTable table(header);
  for (const auto& spec : runner::load_experiment(file, overrides)) {
    std::vector<Row> rows;
    if (!no_model) rows.push_back(bench_model(spec, ms, repeats));
    for (const auto& [n, k] : shapes) rows.push_back(bench_linear(n, k, spec.quant, ms, repeats));
    for (auto& r : rows) {
      std::vector<std::string> cells = {spec.run_name(), r.what, cat(r.fp_bytes), cat(r.packed_bytes)};
      cells.insert(cells.end(), r.rates.begin(), r.rates.end());
      table.add_row(cells);
    }
  }
  std::cout << table.render() << "compute: " << compute << "; packed backend: " << packed::packed_gemm_backend() << "\n";
  return kExitOk;
}

}  // namespace abq::cli
