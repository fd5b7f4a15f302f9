#include "framework/calib/stream_ops.h"

#include <sstream>

#include "framework/core/error.h"
#include "framework/core/log.h"

namespace abq::calib {

void check_calibration(const std::vector<torch::Tensor>& calibration) {
  if (calibration.empty()) throw Error("block-wise calibration needs calibration windows; got none");
  for (size_t j = 0; j < calibration.size(); ++j) {
    const auto& t = calibration[j];
    if (!t.defined() || t.dim() != 2 || t.scalar_type() != torch::kInt64 || t.numel() == 0) {
      std::ostringstream found;
      if (t.defined()) found << t.scalar_type() << " " << t.sizes();
      throw Error(cat("calibration window ", j, ": expected int64 token ids [B, T], got ",
                      t.defined() ? found.str() : "an undefined tensor"));
    }
  }
}

Streams capture_block0_inputs(const model::LlamaModel& model, const std::vector<torch::Tensor>& calibration,
                              const torch::Device& stream_device) {
  Streams s;
  for (const auto& window : calibration) {
    auto x = model.embed(window.to(model.device())).to(stream_device);  // [B, T, C]
    s.fp.push_back(x);
    s.q.push_back(x);  // both chains start from the same embeddings
  }
  return s;
}

ResumeState resume_or_start(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration,
                            const std::string& fingerprint, const CalibOptions& options,
                            const torch::Device& stream_device) {
  ResumeState state;
  if (auto resume = load_block_checkpoint(options.checkpoint_dir, fingerprint, model, stream_device)) {
    state = std::move(*resume);
    log_info("calibration: resuming at block ", state.next_block, " of ", model.config().num_layers, " from ",
             options.checkpoint_dir);
  } else {
    torch::NoGradGuard no_grad;
    state.streams = capture_block0_inputs(model, calibration, stream_device);
  }
  state.report.resumed_at_block = state.next_block;
  return state;
}

// A deep copy: a quantizer may write into the weight it was given.
model::DecoderBlock clone_block(const model::DecoderBlock& block) {
  return model::map_tensors(block, [](const torch::Tensor& t) { return t.clone(); });
}

bool all_finite(const std::vector<torch::Tensor>& xs) {
  for (const auto& x : xs)
    if (!torch::isfinite(x).all().item<bool>()) return false;
  return true;
}

double mean_squared_error(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double sum = 0, count = 0;
  for (size_t j = 0; j < a.size(); ++j) {
    sum += (a[j].to(torch::kFloat64) - b[j].to(torch::kFloat64)).square().sum().item<double>();
    count += double(a[j].numel());
  }
  return sum / count;
}

bool commit_block(const CalibOptions& options, const std::string& fingerprint, int64_t layer,
                  const model::LlamaModel& model, const Streams& streams, const CalibrationReport& report) {
  if (!options.checkpoint_dir.empty()) save_block_checkpoint(options.checkpoint_dir, fingerprint, layer, model, streams, report);
  if (options.after_block && !options.after_block(layer)) {
    log_info("calibration: stopped after block ", layer, " as requested");
    return false;
  }
  return true;
}

namespace {

void hash_tensor(Sha256& h, const torch::Tensor& t) {
  if (!t.defined()) return h.update("undefined\n");
  const auto cpu = t.to(torch::kCPU).contiguous();
  h.update(cat(cpu.scalar_type(), " ", cpu.sizes(), "\n"));
  h.update(cpu.data_ptr(), size_t(cpu.numel()) * cpu.element_size());
}

// Every tensor of the model as it is now, in a fixed order.
std::string weights_sha256(const model::LlamaModel& model) {
  Sha256 h;
  const auto& w = model.weights();
  hash_tensor(h, w.embed_tokens);
  for (const auto& layer : w.layers) {
    auto block = layer;  // shares the tensors; tensor_slots needs a mutable block
    for (const torch::Tensor* t : model::tensor_slots(block)) hash_tensor(h, *t);
  }
  hash_tensor(h, w.norm);
  hash_tensor(h, w.lm_head);
  return h.hex_digest();
}

}  // namespace

void hash_model_and_tokens(Sha256& h, const model::LlamaModel& model, const std::vector<torch::Tensor>& calibration,
                           const CalibOptions& options) {
  const auto& c = model.config();
  h.update(cat("L", c.num_layers, " C", c.hidden_size, " F", c.intermediate_size, " H", c.num_heads, " Hkv",
               c.num_kv_heads, " V", c.vocab_size, " dtype ", model.dtype(), "\n"));
  // The weights: two models of the same shape must never share a checkpoint (a model file
  // replaced at the same path would resume with the old model's blocks). Hashing the tensors
  // costs a pass over the model, so it is done only when checkpoints are written and the caller
  // has no digest of its own.
  if (!options.checkpoint_dir.empty())
    h.update("weights " + (options.weights_digest.empty() ? weights_sha256(model) : options.weights_digest) + "\n");
  for (const auto& window : calibration) {
    auto cpu = window.to(torch::kCPU).contiguous();
    h.update(cat(cpu.sizes(), "\n"));
    h.update(cpu.data_ptr(), size_t(cpu.numel()) * sizeof(int64_t));
  }
}

}  // namespace abq::calib
