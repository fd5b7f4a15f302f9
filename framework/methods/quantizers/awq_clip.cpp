#include "framework/methods/quantizers/awq_clip.h"

#include <limits>
#include <sstream>

#include "framework/core/error.h"
#include "framework/quant/fake_quant.h"

namespace abq::methods {
namespace {

std::string shape_of(const torch::Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

void check_options(const AwqClipOptions& options) {
  if (options.n_grid < 1) throw Error(cat("awq_clip n_grid must be >= 1, got ", options.n_grid));
  if (!(options.max_shrink >= 0 && options.max_shrink < 1))
    throw Error(cat("awq_clip max_shrink must be in [0, 1), got ", options.max_shrink));
}

// Input-dim group size of the search: the spec's group, or the whole row for per_channel.
int64_t search_group(const torch::Tensor& weight, const quant::QuantSpec& spec) {
  if (!weight.defined() || weight.dim() != 2) throw Error(cat("expected a weight [out, in], got ", shape_of(weight)));
  quant::validate(spec);
  const int64_t in = weight.size(1);
  if (spec.granularity == quant::Granularity::per_channel) return in;
  if (spec.granularity != quant::Granularity::per_group)
    throw Error(cat("awq_clip searches one threshold per row and group; weight granularity must be per_channel or "
                    "per_group, got ", quant::to_string(spec.granularity)));
  if (in % spec.group_size != 0)
    throw Error(cat("awq_clip group_size ", spec.group_size, " must divide the weight's input size ", in));
  return spec.group_size;
}

// The diagonal blocks H_gg of a Hessian [K, K]: [G, gs, gs].
torch::Tensor diagonal_blocks(const torch::Tensor& hessian, int64_t group) {
  const int64_t groups = hessian.size(0) / group;
  auto blocks = hessian.reshape({groups, group, groups, group}).permute({0, 2, 1, 3});  // [G, G, gs, gs]
  return torch::diagonal(blocks, 0, 0, 1).permute({2, 0, 1});                           // [G, gs, gs]
}

// Δ_og H_gg Δ_ogᵀ for every row o and group g of delta [O, K]: [O, G].
torch::Tensor group_output_error(const torch::Tensor& delta, const torch::Tensor& blocks) {
  const int64_t groups = blocks.size(0), group = blocks.size(1);
  auto d = delta.reshape({delta.size(0), groups, group}).permute({1, 0, 2});  // [G, O, gs]
  return (torch::bmm(d, blocks) * d).sum(-1).transpose(0, 1);                 // [O, G]
}

// w [O, K] clipped to ±max_val [O, G] group by group.
torch::Tensor clip_groups(const torch::Tensor& w, const torch::Tensor& max_val) {
  auto g = w.reshape({w.size(0), max_val.size(1), -1});  // [O, G, gs]
  auto m = max_val.unsqueeze(-1);
  return torch::max(torch::min(g, m), -m).reshape(w.sizes());
}

}  // namespace

bool awq_clip_skips(const std::string& site) {
  return site.find("self_attn.q_proj.") != std::string::npos || site.find("self_attn.k_proj.") != std::string::npos;
}

AwqClipResult awq_clip_quantize(const torch::Tensor& weight, const torch::Tensor& hessian, const quant::QuantSpec& spec,
                                const AwqClipOptions& options) {
  check_options(options);
  const int64_t group = search_group(weight, spec);
  const int64_t in = weight.size(1);
  if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != in || hessian.size(1) != in)
    throw Error(cat("expected a Hessian [in, in] = [", in, ", ", in, "], got ", shape_of(hessian)));
  if (spec.clip_ratio != 1.0)
    throw Error(cat("awq_clip searches the clipping itself; expected clip_ratio 1, got ", spec.clip_ratio));
  if (!spec.enabled()) return {{weight, {}, {}, {}}, {}, {}};
  torch::NoGradGuard no_grad;

  const auto work = weight.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const auto w = weight.detach().to(work);                                             // [O, K]
  const auto blocks = diagonal_blocks(hessian.detach().to(w.device(), work), group);  // [G, gs, gs]
  const int64_t rows = w.size(0), groups = in / group;
  const auto org_max = w.abs().reshape({rows, groups, group}).amax(-1);                // [O, G]

  auto best_err = torch::full({rows, groups}, std::numeric_limits<double>::infinity(), w.options());
  auto best_ratio = torch::ones({rows, groups}, w.options().dtype(torch::kFloat64));
  auto best_max = org_max.clone();
  const auto steps = static_cast<int64_t>(options.max_shrink * double(options.n_grid));  // Python int()
  for (int64_t i = 0; i < steps; ++i) {
    const double ratio = 1.0 - double(i) / double(options.n_grid);
    const auto max_val = org_max * ratio;
    const auto fake = quant::fake_quant(clip_groups(w, max_val), spec).fake;
    const auto err = group_output_error(fake - w, blocks);  // [O, G]
    const auto better = err < best_err;                     // strict: the first ratio wins ties
    best_err = torch::where(better, err, best_err);
    best_max = torch::where(better, max_val, best_max);
    best_ratio.masked_fill_(better, ratio);
  }

  quant::FakeQuantOptions fq;
  fq.with_codes = true;
  const auto q = quant::fake_quant(clip_groups(w, best_max), spec, fq);
  return {{q.fake.to(weight.scalar_type()), q.codes, q.scale, q.zero}, best_ratio, best_max};
}

AwqClipQuantizer::AwqClipQuantizer(AwqClipOptions options) : options_(options) { check_options(options_); }

WeightQuantResult AwqClipQuantizer::quantize(const torch::Tensor& weight, const quant::QuantSpec& spec,
                                             const WeightContext& ctx) {
  try {
    last_ratios_ = torch::Tensor();
    if (awq_clip_skips(ctx.site)) {
      search_group(weight, spec);  // same spec checks as the clipped sites
      quant::FakeQuantOptions fq;
      fq.with_codes = true;
      const auto q = quant::fake_quant(weight, spec, fq);
      return {q.fake, q.codes, q.scale, q.zero};
    }
    if (!ctx.hessian.defined())
      throw Error("awq_clip needs the Hessian of the layer inputs (run it inside block-wise calibration)");
    auto result = awq_clip_quantize(weight, ctx.hessian, spec, options_);
    last_ratios_ = result.ratios;
    return result.quant;
  } catch (Error& e) {
    e.with_context(cat("while quantizing ", ctx.site.empty() ? std::string("a weight") : ctx.site, " with awq_clip (",
                       quant::describe(spec, "w"), ")"));
    throw;
  }
}

const config::OptionSet<AwqClipOptions>& awq_clip_options() {
  using config::Schema;
  static const auto set =
      config::OptionSet<AwqClipOptions>()
          .field("n_grid", &AwqClipOptions::n_grid, Schema::integer().range(1, 1000).doc("clip ratios step 1/n_grid"))
          .field("max_shrink", &AwqClipOptions::max_shrink,
                 Schema::number().range(0.0, 1.0).exclusive_max().doc("ratios 1 - i/n_grid for i < max_shrink*n_grid"));
  return set;
}

}  // namespace abq::methods
