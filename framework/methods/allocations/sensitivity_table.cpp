#include "framework/methods/allocations/sensitivity_table.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cmath>

#include <unistd.h>

#include "framework/core/error.h"
#include "framework/core/sha256.h"
#include "framework/core/spellcheck.h"
#include "framework/quant/fake_quant.h"
#include "framework/quant/quant_spec_options.h"

namespace abq::methods {
namespace fs = std::filesystem;

std::vector<std::string> measure_names() { return {"hessian", "fisher", "block_mse", "output_kl", "heuristic"}; }

const char* to_string(Measure measure) {
  switch (measure) {
    case Measure::hessian: return "hessian";
    case Measure::fisher: return "fisher";
    case Measure::block_mse: return "block_mse";
    case Measure::output_kl: return "output_kl";
    case Measure::heuristic: return "heuristic";
  }
  return "hessian";
}

Measure measure_from_string(const std::string& name) {
  for (Measure m : {Measure::hessian, Measure::fisher, Measure::block_mse, Measure::output_kl, Measure::heuristic})
    if (name == to_string(m)) return m;
  throw ConfigError(cat("measure '", name, "' is not one of ", join(measure_names())));
}

namespace {

const torch::Tensor& weight_of(const model::LlamaModel& m, const SiteInfo& site) {
  return m.weights().layers[size_t(site.layer)].linear(model::linear_of(site.kind)).weight;
}

torch::Tensor weight_error(const model::LlamaModel& m, const SiteInfo& site, const quant::QuantSpec& spec) {
  const torch::Tensor w = weight_of(m, site).to(torch::kFloat32);
  return quant::fake_quant(w, spec).fake - w;
}

double local_score(const AllocationContext& c, SensitivityService& service, const SiteGroup& group,
                   const Candidate& candidate, Measure measure, size_t windows) {
  double score = 0;
  for (const auto* w : group.weights) {
    if (!candidate.weights.enabled()) continue;
    const torch::Tensor dw = weight_error(c.model, *w, candidate.weights);
    if (measure == Measure::hessian) {
      // float32 products, summed in float64 (the tests hold it to 1e-4 of a float64 trace).
      const torch::Tensor h = service.input_hessian(w->name).to(torch::kFloat32);
      score += (dw.matmul(h) * dw).sum(torch::kFloat64).item<double>();
    } else {
      const torch::Tensor f = service.weight_fisher(w->name, windows).to(torch::kFloat32);
      score += 0.5 * (f * dw.square()).sum(torch::kFloat64).item<double>();
    }
  }
  return score;
}

// The hand rule as a score (sensitivity_table.h): data-free, so it needs no calibration windows.
double heuristic_score(const AllocationContext& c, const SiteGroup& group, const Candidate& candidate) {
  if (!candidate.weights.enabled()) return 0;
  int64_t last = 0;
  for (const auto& s : c.sites) last = std::max(last, s.layer);
  double score = 0;
  for (const auto* w : group.weights) {
    const bool protect = w->layer == 0 || w->layer == last || w->kind == model::SiteKind::down_proj_weight;
    const double step = 1.0 / double(candidate.weights.levels() - 1);
    score += (protect ? 16.0 : 1.0) * double(w->out_features * w->in_features) * step * step;
  }
  return score;
}

SiteSpecs group_specs(const AllocationContext& c, const SiteGroup& group, const Candidate& candidate) {
  SiteSpecs specs;
  for (const auto* w : group.weights) specs.emplace_back(w->name, candidate.weights);
  if (candidate.activations)
    for (const auto* i : group.inputs) specs.emplace_back(i->name, *candidate.activations);
  return specs;
}

std::string calibration_digest(const std::vector<torch::Tensor>& windows) {
  Sha256 h;
  for (const auto& w : windows) {
    const torch::Tensor t = w.to(torch::kCPU, torch::kInt64).contiguous();
    const std::string shape = cat(t.sizes().vec().size(), ":", t.numel(), ";");
    h.update(shape);
    h.update(t.data_ptr<int64_t>(), size_t(t.numel()) * sizeof(int64_t));
  }
  return h.hex_digest();
}

fs::path cache_file(const AllocationContext& c, const std::string& key) {
  return fs::path(c.cache_dir) / "sensitivity" / (key + ".tsv");
}

// The cached table, or false when absent or not of this shape (then it is measured again).
bool read_cache(const fs::path& path, const std::vector<SiteGroup>& groups, const std::vector<Candidate>& candidates,
                std::vector<std::vector<double>>& score) {
  std::ifstream in(path);
  if (!in) return false;
  score.assign(groups.size(), std::vector<double>(candidates.size(), 0));
  std::vector<std::vector<bool>> seen(groups.size(), std::vector<bool>(candidates.size(), false));
  std::string line;
  size_t rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string group, label, value;
    if (!std::getline(fields, group, '\t') || !std::getline(fields, label, '\t') || !std::getline(fields, value)) return false;
    size_t g = 0, k = 0;
    while (g < groups.size() && groups[g].name != group) ++g;
    while (k < candidates.size() && candidates[k].label != label) ++k;
    if (g == groups.size() || k == candidates.size()) return false;
    char* end = nullptr;
    score[g][k] = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || seen[g][k]) return false;
    seen[g][k] = true;
    ++rows;
  }
  return rows == groups.size() * candidates.size();
}

void write_cache(const fs::path& path, const std::string& key_text, const std::vector<SiteGroup>& groups,
                 const std::vector<Candidate>& candidates, const std::vector<std::vector<double>>& score) {
  fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    std::istringstream key(key_text);
    for (std::string line; std::getline(key, line);) out << "# " << line << "\n";
    char buf[64];
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t k = 0; k < candidates.size(); ++k) {
        std::snprintf(buf, sizeof buf, "%.17g", score[g][k]);
        out << groups[g].name << "\t" << candidates[k].label << "\t" << buf << "\n";
      }
    if (!out) throw Error(cat("cannot write the sensitivity cache ", tmp.string()));
  }
  fs::rename(tmp, path);  // atomic: a reader sees the old table or the whole new one
}

}  // namespace

std::string score_key_text(const AllocationContext& c, const std::vector<SiteGroup>& groups,
                           const std::vector<Candidate>& candidates, Measure measure, size_t windows) {
  const auto& options = quant::quant_spec_options();
  std::ostringstream key;
  key << "abq sensitivity table v1\n";
  key << "measure " << to_string(measure) << "\n";
  key << "windows " << (windows == 0 ? c.calibration.size() : std::min(windows, c.calibration.size())) << "\n";
  key << "model " << c.model_digest << "\n";
  key << "calibration " << calibration_digest(c.calibration) << " (" << c.calibration.size() << " windows)\n";
  key << "default activations " << options.fingerprint(c.defaults.activations) << "\n";
  for (const auto& g : groups) {
    key << "group " << g.name << ":";
    for (const auto* w : g.weights) key << " " << w->name << "[" << w->out_features << "x" << w->in_features << "]";
    key << "\n";
  }
  for (const auto& k : candidates) {
    key << "candidate " << k.label << ": " << options.fingerprint(k.weights);
    if (k.activations) key << " | activations " << options.fingerprint(*k.activations);
    key << "\n";
  }
  return key.str();
}

ScoreTable score_candidates(const AllocationContext& c, const std::vector<SiteGroup>& groups,
                            const std::vector<Candidate>& candidates, Measure measure, size_t windows) {
  const bool local = measure == Measure::hessian || measure == Measure::fisher || measure == Measure::heuristic;
  if (local)
    for (const auto& k : candidates)
      if (k.activations)
        throw ConfigError(cat("measure ", to_string(measure), " scores weights only, but candidate ", k.label,
                              " also quantizes activations; use block_mse or output_kl"));
  ScoreTable table;
  if (measure == Measure::heuristic) {
    for (const auto& g : groups) {
      table.score.emplace_back();
      for (const auto& k : candidates) table.score.back().push_back(heuristic_score(c, g, k));
    }
    return table;
  }
  SensitivityService& service = c.require_sensitivity("mixed");
  const std::string key_text = score_key_text(c, groups, candidates, measure, windows);
  const bool on_disk = !c.cache_dir.empty() && !c.model_digest.empty();
  if (on_disk) {
    table.key = sha256_hex(key_text);
    if (read_cache(cache_file(c, table.key), groups, candidates, table.score)) {
      table.from_cache = true;
      return table;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  table.score.assign(groups.size(), std::vector<double>(candidates.size(), 0));
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t k = 0; k < candidates.size(); ++k) {
      double s = 0;
      if (local) {
        s = local_score(c, service, groups[g], candidates[k], measure, windows);
      } else if (candidates[k].weights.enabled() || candidates[k].activations) {
        const SiteSpecs specs = group_specs(c, groups[g], candidates[k]);
        s = measure == Measure::block_mse ? service.block_output_mse(specs, windows) : service.output_kl(specs, windows);
      }
      if (!std::isfinite(s))
        throw Error(cat("measure ", to_string(measure), ": group ", groups[g].name, " with candidate ", candidates[k].label,
                        " scored ", s, " (non-finite: check the model and calibration data)"));
      table.score[g][k] = s;
    }
  table.measure_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (on_disk) write_cache(cache_file(c, table.key), key_text, groups, candidates, table.score);
  return table;
}

}  // namespace abq::methods
