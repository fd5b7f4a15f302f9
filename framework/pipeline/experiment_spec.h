// ExperimentSpec: one fully resolved, validated run of an experiment file, typed. Built by
// experiments/runner (load_experiment.h), which reads the experiment file; the pipeline stages
// here take the parts they need, and components receive their own typed options
// (methods/registry.h).
//
// An experiment file may expand into several runs (`runs:` and `sweep:`); each run has its own
// resolved config, hash and run id (the key of its record in the results store).
// Relative paths in a config are relative to the experiment file's folder.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "framework/methods/allocations/site_overrides.h"
#include "framework/quant/quant_spec.h"

namespace abq::pipeline {

/// Hyper-parameters of the seeded random LLaMA used by tests and smoke runs.
struct RandomModelSpec {
  int64_t vocab_size = 258;
  int64_t hidden_size = 64;
  int64_t intermediate_size = 128;
  int64_t num_layers = 2;
  int64_t num_heads = 4;
  int64_t num_kv_heads = 2;
  bool tie_embeddings = true;
  uint64_t seed = 0;
};

struct ModelSpec {
  std::string source;   // random | gguf | hf
  std::string path;     // checkpoint file or folder (gguf, hf)
  std::string dtype;    // float32 | float16 | bfloat16 | float64
  std::string device;   // cpu | cuda | cuda:N
  bool streamed = false;  // decoder blocks read from the checkpoint one at a time (hf only)
  RandomModelSpec random;
};

struct TokenizerSpec {
  std::string type;     // auto (from the checkpoint) | byte
};

struct CalibrationSpec {
  std::string data;     // the file read as `source`; "" = no calibration data
  std::string source = "text";  // text | wikitext2 | ptb | c4 (calibration_data.h)
  int64_t samples = 128;
  int64_t seqlen = 2048;
  uint64_t seed = 2;
  bool streams_on_host = false;  // block-wise calibration keeps its activation streams in CPU memory
};

/// A registered component chosen by `type`, with its validated options (defaults filled).
struct ComponentSpec {
  std::string type;
  YAML::Node options;
};

struct QuantPlanSpec {
  quant::QuantSpec weights;
  quant::QuantSpec activations;
  quant::QuantSpec kv;
  ComponentSpec weight_quantizer;
  std::vector<ComponentSpec> corrections;
  ComponentSpec allocation;        // registered allocation and its own options (quant.allocation)
  std::vector<methods::SiteOverride> overrides;  // quant.allocation.overrides, applied after the allocation
  std::string execution = "simulated";  // quant.execution: simulated (fake-quantized fp weights) | packed (the kernels)
};

struct ExperimentSpec {
  std::string name;        // experiment name
  std::string variant;     // run name within the experiment ("" for a single run)
  std::string file;        // the experiment file
  std::string base_dir;    // its folder; relative paths resolve against it
  uint64_t seed = 0;
  ModelSpec model;
  TokenizerSpec tokenizer;
  CalibrationSpec calibration;
  QuantPlanSpec quant;
  std::vector<ComponentSpec> eval;
  std::string results;     // results file (resolved path)
  std::string export_dir;  // `export`: folder for the quantized model ("" none; "{run}" -> run name)

  /// `cluster:` as validated (experiments/runner/cluster_options.h decodes it): how `abq sweep`
  /// executes the runs; not part of the config or its hash.
  YAML::Node cluster;
  /// With `seeds:`, the run's name without its "seed=N" part (the runs averaged over seeds); else "".
  std::string seed_group;

  std::string resolved_yaml;  // canonical resolved config of this run
  std::string config_hash;    // sha256 of the canonical form
  std::string run_id;         // first 16 hex digits of config_hash
  /// "file:line:col" of the keys that checks made during the run name
  /// (experiments/runner/experiment_checks.h), by dotted path; not part of the config or its hash.
  std::map<std::string, std::string> key_positions;

  std::string run_name() const { return variant.empty() ? name : variant; }
  /// A path from the config, made absolute against base_dir (unless already absolute or empty;
  /// "~" is $HOME). Defined in experiment_paths.cpp.
  std::string resolve_path(const std::string& path) const;
};

}  // namespace abq::pipeline
