#include "framework/methods/quantizers/gptq.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include "framework/core/error.h"

namespace abq::methods {
namespace {

using torch::indexing::Slice;

// Δ and z of the reference grid for each row of x [R, K]; both come back as [R, 1].
struct GptqGrid {
  torch::Tensor scale;
  torch::Tensor zero;
};

// quant.py Quantizer.find_params(x, weight=True) with perchannel rows, mse = False.
GptqGrid find_params(const torch::Tensor& x, bool symmetric, double maxq) {
  auto zeros = torch::zeros({x.size(0)}, x.options());
  auto xmin = torch::minimum(std::get<0>(x.min(1)), zeros);  // [R], widened to contain 0
  auto xmax = torch::maximum(std::get<0>(x.max(1)), zeros);  // [R]
  if (symmetric) {
    xmax = torch::maximum(xmin.abs(), xmax);
    xmin = torch::where(xmin < 0, -xmax, xmin);  // rows with min 0 keep m⁻ = 0, as the reference
  }
  auto both_zero = (xmin == 0) & (xmax == 0);
  xmin = torch::where(both_zero, torch::full_like(xmin, -1), xmin);
  xmax = torch::where(both_zero, torch::full_like(xmax, 1), xmax);
  auto scale = (xmax - xmin) / maxq;
  auto zero = symmetric ? torch::full_like(scale, (maxq + 1) / 2) : torch::round(-xmin / scale);
  return {scale.unsqueeze(1), zero.unsqueeze(1)};
}

// quant.py quantize(): codes q = clamp(⌊w/Δ⌉ + z, 0, maxq); w [R, 1], grid [R, 1].
torch::Tensor codes_on_grid(const torch::Tensor& w, const GptqGrid& grid, double maxq) {
  return torch::clamp(torch::round(w / grid.scale) + grid.zero, 0, maxq);
}

std::string shape_of(const torch::Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

void check_inputs(const torch::Tensor& weight, const torch::Tensor& hessian, const quant::QuantSpec& spec,
                  const GptqOptions& options) {
  if (!weight.defined() || weight.dim() != 2)
    throw Error(cat("expected a weight [out, in], got ", shape_of(weight)));
  const int64_t in = weight.size(1);
  if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != in || hessian.size(1) != in)
    throw Error(cat("expected a Hessian [in, in] = [", in, ", ", in, "], got ", shape_of(hessian)));
  quant::validate(spec);
  const auto g = spec.granularity;
  if (g != quant::Granularity::per_tensor && g != quant::Granularity::per_channel &&
      g != quant::Granularity::per_group)
    throw Error(cat("gptq weight granularity must be per_tensor, per_channel or per_group; got ", quant::to_string(g)));
  if (g == quant::Granularity::per_group && in % spec.group_size != 0)
    throw Error(cat("gptq group_size ", spec.group_size, " must divide the weight's input size ", in));
  if (spec.clip_ratio != 1.0)
    throw Error(cat("gptq's grid has no clipping; expected clip_ratio 1, got ", spec.clip_ratio));
  if (options.block_size < 1) throw Error(cat("gptq block_size must be >= 1, got ", options.block_size));
  if (!(options.damp >= 0)) throw Error(cat("gptq damp must be >= 0, got ", options.damp));
  if (options.act_order && g == quant::Granularity::per_group && !options.static_groups)
    throw Error(
        "gptq act_order with per_group needs static_groups: true (dynamic groups of permuted columns "
        "cannot be stored as consecutive groups)");
}

}  // namespace

GptqResult gptq_quantize(const torch::Tensor& weight, const torch::Tensor& hessian, const quant::QuantSpec& spec,
                         const GptqOptions& options) {
  check_inputs(weight, hessian, spec, options);
  if (!spec.enabled()) return {{weight, {}, {}, {}}, 0.0};
  torch::NoGradGuard no_grad;

  const auto work = weight.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto W = weight.detach().to(work).clone();                          // [O, K]
  auto H = hessian.detach().to(weight.device(), work).clone();        // [K, K]
  const int64_t rows = W.size(0), columns = W.size(1);
  const double maxq = double(spec.levels() - 1);
  const bool grouped = spec.granularity == quant::Granularity::per_group;
  const bool per_tensor = spec.granularity == quant::Granularity::per_tensor;
  const int64_t G = grouped ? spec.group_size : columns;

  // Whole-row (or whole-tensor) params come from the weight before dead inputs are zeroed,
  // as the reference calls find_params first.
  GptqGrid grid;
  if (!grouped) {
    grid = find_params(per_tensor ? W.reshape({1, -1}) : W, spec.symmetric, maxq);
    if (per_tensor) grid = {grid.scale.expand({rows, 1}), grid.zero.expand({rows, 1})};
  }

  // Dead inputs: H_ii = 0 → H_ii = 1 and W[:, i] = 0.
  auto dead = H.diagonal() == 0;                                      // [K] bool
  H.diagonal().masked_fill_(dead, 1);
  W.index_put_({Slice(), dead}, 0);

  // Static groups: every group's params from the (dead-zeroed) original weight.
  std::vector<GptqGrid> groups;
  if (grouped && options.static_groups)
    for (int64_t g0 = 0; g0 < columns; g0 += G) groups.push_back(find_params(W.slice(1, g0, g0 + G), spec.symmetric, maxq));

  // act-order: columns by decreasing diag(H), ties by index (stable sort).
  torch::Tensor perm, invperm;
  if (options.act_order) {
    perm = std::get<1>(torch::sort(H.diagonal(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    W = W.index_select(1, perm);
    H = H.index_select(0, perm).index_select(1, perm);
    invperm = torch::argsort(perm);
  }
  std::vector<int64_t> perm_host(static_cast<size_t>(columns));  // original column of each position
  if (options.act_order) {
    auto p = perm.to(torch::kCPU).contiguous();
    std::copy(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + columns, perm_host.begin());
  } else {
    for (int64_t c = 0; c < columns; ++c) perm_host[size_t(c)] = c;
  }

  // Damping, then U = upper Cholesky factor of H⁻¹ (H⁻¹ through a Cholesky factorization).
  const auto lambda = options.damp * H.diagonal().mean();
  H.diagonal().add_(lambda);
  auto U = torch::linalg_cholesky(torch::cholesky_inverse(torch::linalg_cholesky(H)), /*upper=*/true);  // [K, K]

  auto Q = torch::zeros_like(W);       // fake weight, permuted order
  auto codes = torch::zeros_like(W);   // q in [0, maxq], permuted order
  auto losses = torch::zeros_like(W);  // (w - q)² / U_ii² / 2
  const int64_t num_groups = grouped ? columns / G : 1;
  auto group_scale = torch::zeros({rows, num_groups}, W.options());
  auto group_zero = torch::zeros({rows, num_groups}, W.options());

  // Lazy-batch column loop (gptq.py fasterquant).
  for (int64_t i1 = 0; i1 < columns; i1 += options.block_size) {
    const int64_t i2 = std::min(i1 + options.block_size, columns);
    const int64_t count = i2 - i1;
    auto W1 = W.slice(1, i1, i2).clone();                 // [O, count]
    auto Err1 = torch::zeros_like(W1);                    // [O, count]
    auto U1 = U.slice(0, i1, i2).slice(1, i1, i2);        // [count, count]
    for (int64_t i = 0; i < count; ++i) {
      const int64_t col = i1 + i;
      auto w = W1.select(1, i).clone();                   // [O]
      auto d = U1.index({i, i});
      if (grouped) {
        if (!options.static_groups) {
          if (col % G == 0) {
            // The reference reads W (updated only at lazy-batch boundaries), not W1.
            grid = find_params(W.slice(1, col, col + G), spec.symmetric, maxq);
            group_scale.select(1, col / G).copy_(grid.scale.squeeze(1));
            group_zero.select(1, col / G).copy_(grid.zero.squeeze(1));
          }
        } else {
          grid = groups[size_t(perm_host[size_t(col)] / G)];
        }
      }
      auto qi = codes_on_grid(w.unsqueeze(1), grid, maxq);        // [O, 1]
      auto q = (grid.scale * (qi - grid.zero)).squeeze(1);       // [O]
      codes.select(1, col).copy_(qi.squeeze(1));
      Q.select(1, col).copy_(q);
      losses.select(1, col).copy_((w - q).square() / d.square() / 2);
      auto err = (w - q) / d;                                     // [O]
      W1.slice(1, i).sub_(err.unsqueeze(1).matmul(U1.index({i, Slice(i, torch::indexing::None)}).unsqueeze(0)));
      Err1.select(1, i).copy_(err);
    }
    W.slice(1, i2).sub_(Err1.matmul(U.slice(0, i1, i2).slice(1, i2)));
  }

  if (options.act_order) {
    Q = Q.index_select(1, invperm);
    codes = codes.index_select(1, invperm);
  }

  GptqResult result;
  result.loss = losses.sum().item<double>();
  result.quant.fake_weight = Q.to(weight.scalar_type());
  torch::Tensor scale, zero;
  if (grouped && options.static_groups) {
    std::vector<torch::Tensor> s, z;
    for (const auto& g : groups) {
      s.push_back(g.scale);
      z.push_back(g.zero);
    }
    scale = torch::cat(s, 1);  // [O, K/G]
    zero = torch::cat(z, 1);
  } else if (grouped) {
    scale = group_scale;
    zero = group_zero;
  } else if (per_tensor) {
    scale = grid.scale[0][0].clone();  // []
    zero = grid.zero[0][0].clone();
  } else {
    scale = grid.scale;  // [O, 1]
    zero = grid.zero;
  }
  if (spec.symmetric) {
    // Store signed codes with zero = 0, as fake_quant.h does for symmetric grids.
    if (grouped) {
      codes = codes - zero.repeat_interleave(G, 1);
    } else {
      codes = codes - zero;
    }
    zero = torch::zeros_like(zero);
  }
  result.quant.codes = codes.to(torch::kInt32);
  result.quant.scale = scale;
  result.quant.zero = zero;
  return result;
}

WeightQuantResult GptqQuantizer::quantize(const torch::Tensor& weight, const quant::QuantSpec& spec,
                                          const WeightContext& ctx) {
  try {
    if (!ctx.hessian.defined())
      throw Error("gptq needs the Hessian of the layer inputs (run it inside block-wise calibration)");
    auto result = gptq_quantize(weight, ctx.hessian, spec, options_);
    last_loss_ = result.loss;
    return result.quant;
  } catch (Error& e) {
    e.with_context(cat("while quantizing ", ctx.site.empty() ? std::string("a weight") : ctx.site, " with gptq (",
                       quant::describe(spec, "w"), ")"));
    throw;
  }
}

const config::OptionSet<GptqOptions>& gptq_options() {
  using config::Schema;
  static const auto set =
      config::OptionSet<GptqOptions>()
          .field("block_size", &GptqOptions::block_size, Schema::integer().range(1, 1 << 20).doc("columns per lazy-batch update"))
          .field("damp", &GptqOptions::damp, Schema::number().range(0.0, 1.0).doc("fraction of mean diag(H) added before Cholesky"))
          .field("act_order", &GptqOptions::act_order, Schema::boolean().doc("quantize columns by decreasing diag(H)"))
          .field("static_groups", &GptqOptions::static_groups,
                 Schema::boolean().doc("per_group: all group ranges from the original weight"));
  return set;
}

}  // namespace abq::methods
