// The measured half of mixed precision: a score per (site group, candidate) — the loss the group
// is predicted to add when quantized with the candidate, the rest of the model fp — measured once
// and kept on disk under a key that holds everything the scores depend on (model digest,
// calibration windows, measure, windows used, groups, candidates and default specs) and nothing
// they do not (the budget, the solver), so a sweep over budgets measures once.
//
// Measures (allocations/README.md cites each):
//   hessian    Σ tr(ΔW H ΔWᵀ) over the group's weights, H = 2/N Σ xᵀx of the linear's input on
//              the fp chain (the GPTQ / HAWQ / OWQ local proxy), ΔW = Q(W) − W by round-to-nearest
//   fisher     ½ Σ F ⊙ ΔW², F the empirical Fisher diagonal (mean squared gradient of the
//              next-token loss, one backward pass per window): a second-order Taylor estimate of
//              the loss increase (ModelOpt AutoQuantize `gradient`, MixLLM)
//   block_mse  measured mean squared error of the block output with only the group quantized
//   output_kl  measured mean per-token KL(fp ‖ q) of the next-token distribution with only the
//              group quantized (ExLlamaV3, ModelOpt `kl_div`)
//   heuristic  no measurement: the hand rule "first and last blocks and down_proj at higher bits"
//              as scores, params · (levels − 1)⁻² (the squared step of a uniform grid), times 16
//              for those protected groups; solved like the others, so it meets the same budget
//              exactly (the baseline a measure must beat at equal bytes)
// hessian, fisher and heuristic score weights only; a candidate that also changes activations
// needs a measured one.
#pragma once

#include <string>
#include <vector>

#include "framework/methods/allocation.h"
#include "framework/methods/allocations/candidates.h"
#include "framework/methods/allocations/site_groups.h"

namespace abq::methods {

enum class Measure { hessian, fisher, block_mse, output_kl, heuristic };
std::vector<std::string> measure_names();
Measure measure_from_string(const std::string& name);
const char* to_string(Measure measure);

struct ScoreTable {
  std::vector<std::vector<double>> score;  // [group][candidate]
  std::string key;                          // sha256 of the key text ("" without a model digest)
  bool from_cache = false;
  double measure_seconds = 0;               // 0 when read from the cache
};

/// The key text the cache is named by (its sha256): everything the scores depend on.
std::string score_key_text(const AllocationContext& context, const std::vector<SiteGroup>& groups,
                           const std::vector<Candidate>& candidates, Measure measure, size_t windows);

/// Scores from `context.cache_dir` when present under the key, else measured through
/// `context.sensitivity` (and written there). `windows` limits the calibration windows (0: all).
ScoreTable score_candidates(const AllocationContext& context, const std::vector<SiteGroup>& groups,
                            const std::vector<Candidate>& candidates, Measure measure, size_t windows);

}  // namespace abq::methods
