// abq eval EXPERIMENT.yaml [--model PATH]: evaluates a checkpoint (fp or exported fake-quantized)
// with the experiment's evaluators and nothing quantized: weights, activations and KV at 16 bits,
// no corrections. Records go to the experiment's results file like any run (their config, and so
// their run id, differ from the quantized runs'). A folder written by a run's `export` key also holds
// abq_quant.json: its activation quantizers are installed again, so the run's metrics come back.
#include <filesystem>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/run_experiment.h"
#include "framework/core/log.h"
#include "framework/core/progress.h"

namespace abq::cli {

int cmd_eval(const Args& args) {
  po::options_description options("options");
  std::string file, model;
  runner::RunOptions run;
  options.add_options()
      ("file", po::value(&file)->required(), "experiment YAML file (its model and eval keys are used)")
      ("model", po::value(&model), "checkpoint to evaluate instead of the experiment's: a .gguf file or an HF folder")
      ("set", po::value(&run.overrides)->composing(), "override a config key (repeatable)")
      ("results", po::value(&run.results_path), "results file (default: the experiment's `results` key)")
      ("threads", po::value(&run.threads)->default_value(0), "CPU threads for LibTorch and the BLAS (0: every core this process may use)")
      ("quiet,q", po::bool_switch(), "no progress output");
  po::variables_map values;
  if (!parse_args("eval", "EXPERIMENT.yaml [--model PATH] [--set key=value ...]", args, options, values, "file"))
    return kExitOk;
  if (values["quiet"].as<bool>()) {
    Progress::set_enabled(false);
    set_log_level(LogLevel::warn);
  }
  if (!model.empty()) {
    std::string absolute = std::filesystem::absolute(model).string();
    bool gguf = absolute.size() > 5 && absolute.substr(absolute.size() - 5) == ".gguf";
    run.overrides.push_back("model.source=" + std::string(gguf ? "gguf" : "hf"));
    run.overrides.push_back("model.path=" + absolute);
  }
  // Nothing quantized; applied after runs/sweep expansion so they win over every run's values. Runs and sweeps
  // that vary only quantization keys collapse to one config and run once.
  for (const char* o : {"quant.weights.bits=16", "quant.activations.bits=16", "quant.kv.bits=16",
                        "quant.corrections=[]", "quant.allocation.overrides=[]",
                        "quant.weight_quantizer=rtn"})
    run.forced.push_back(o);
  run.merge_duplicate_runs = true;
  runner::RunSummary summary = runner::run_experiment(file, run);
  return summary.failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace abq::cli
