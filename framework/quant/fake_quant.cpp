#include "framework/quant/fake_quant.h"

#include <sstream>

#include "framework/core/error.h"

namespace abq::quant {

namespace {

// Bounds of Δ and z: CLIPMIN = 1e-5 and the 1e4 caps of the reference quantizer.
constexpr double kScaleMin = 1e-5;
constexpr double kScaleMax = 1e4;
constexpr double kZeroBound = 1e4;

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

torch::ScalarType work_dtype(const torch::Tensor& x) {
  return x.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
}

void check_input(const torch::Tensor& x, const char* what) {
  if (!x.defined()) throw Error(cat(what, ": tensor is undefined"));
  if (!x.is_floating_point()) {
    throw Error(cat(what, ": expected a floating-point tensor, got dtype ", x.scalar_type()));
  }
  if (x.numel() == 0) throw Error(cat(what, ": cannot quantize an empty tensor of shape ", shape_of(x)));
}

// ceil(K / G): when G does not divide K the last group is shorter (e.g. K = 576, G = 128 gives
// four groups of 128 and one of 64, as SmolLM2's hidden size needs).
int64_t group_count(const torch::Tensor& x, const QuantSpec& spec) {
  return (x.size(-1) + spec.group_size - 1) / spec.group_size;
}

// x [..., K] -> [..., ceil(K/G), G]. A short last group is padded by repeating the row's last
// element, which leaves that group's min and max (and so its scale and zero-point) unchanged;
// from_groups drops the padding again.
torch::Tensor to_groups(const torch::Tensor& x, const QuantSpec& spec) {
  const int64_t k = x.size(-1);
  const int64_t groups = group_count(x, spec);
  torch::Tensor padded = x;
  if (groups * spec.group_size != k) {
    std::vector<int64_t> pad_shape(x.sizes().begin(), x.sizes().end());
    pad_shape.back() = groups * spec.group_size - k;
    padded = torch::cat({x, x.narrow(-1, k - 1, 1).expand(pad_shape)}, -1);
  }
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = groups;
  shape.push_back(spec.group_size);
  return padded.reshape(shape);
}

// [..., ceil(K/G), G] -> [..., K] (the inverse of to_groups).
torch::Tensor from_groups(const torch::Tensor& groups, at::IntArrayRef sizes) {
  return groups.flatten(-2).narrow(-1, 0, sizes.back()).reshape(sizes);
}

// Symmetric grid half-width Q = 2^(n-1) - 1.
int64_t symmetric_qmax(const QuantSpec& spec) { return (int64_t(1) << (spec.bits - 1)) - 1; }

}  // namespace

torch::Tensor round_ste(const torch::Tensor& t) { return (torch::round(t) - t).detach() + t; }

// clamp(t, lo, hi) whose gradient passes only strictly inside (lo, hi), as PyTorch 2.x's clamp
// backward does (LibTorch 1.13 also passes it at t == lo or hi). The codes of a row's min and max
// land exactly on the bounds, so the convention changes the clip factors' gradients; fixing it here
// keeps training identical across LibTorch versions and equal to the Python references.
torch::Tensor clamp_strict_gradient(const torch::Tensor& t, double lo, double hi) {
  if (!t.requires_grad()) return t.clamp(lo, hi);
  const auto inside = t.gt(lo).logical_and(t.lt(hi));
  return torch::where(inside, t, t.detach().clamp(lo, hi));
}

QuantRange compute_range(const torch::Tensor& x_in, const QuantSpec& spec) {
  check_input(x_in, "compute_range");
  validate(spec);
  const torch::Tensor x = x_in.to(work_dtype(x_in));
  switch (spec.granularity) {
    case Granularity::per_tensor:
      return {x.min(), x.max()};
    case Granularity::per_channel: {
      if (x.dim() < 2) {
        throw Error(cat("per_channel quantization needs a tensor with >= 2 dims (a weight [out, in]); got shape ",
                        shape_of(x), ". For activation channels use a static RangeObserver"));
      }
      std::vector<int64_t> keep(x.dim(), 1);
      keep[0] = x.size(0);
      const auto rows = x.reshape({x.size(0), -1});  // (O, rest)
      return {std::get<0>(rows.min(1)).reshape(keep), std::get<0>(rows.max(1)).reshape(keep)};
    }
    case Granularity::per_group: {
      const auto groups = to_groups(x, spec);  // (..., K/G, G)
      return {groups.amin(-1), groups.amax(-1)};
    }
    case Granularity::per_token:
      return {x.amin(-1, /*keepdim=*/true), x.amax(-1, /*keepdim=*/true)};
    case Granularity::per_head:
      if (x.dim() != 4) {
        throw Error(cat("per_head quantization needs a [B, H, T, D] tensor; got shape ", shape_of(x)));
      }
      return {x.amin({2, 3}, /*keepdim=*/true), x.amax({2, 3}, /*keepdim=*/true)};  // (B, H, 1, 1)
  }
  ABQ_ASSERT(false, "unhandled granularity ", static_cast<int>(spec.granularity));
  return {};
}

QuantParams params_from_range(const QuantRange& range, const QuantSpec& spec, const FakeQuantOptions& options) {
  validate(spec);
  ABQ_ASSERT(range.min.defined() && range.max.defined(), "range is undefined");
  const auto dtype = work_dtype(range.min);
  const torch::Tensor lo = range.min.to(dtype) * spec.clip_ratio;
  const torch::Tensor hi = range.max.to(dtype) * spec.clip_ratio;
  if (spec.symmetric) {
    const auto absmax = torch::max(lo.abs(), hi.abs());
    const auto scale = (absmax / double(symmetric_qmax(spec))).clamp(kScaleMin, kScaleMax);
    return {scale, torch::zeros_like(scale)};
  }
  const auto scale = ((hi - lo) / double(spec.levels() - 1)).clamp(kScaleMin, kScaleMax);
  const auto zero_real = (-lo / scale).clamp(-kZeroBound, kZeroBound);
  const auto zero = options.ste_zero_point ? round_ste(zero_real) : torch::round(zero_real.detach());
  return {scale, zero};
}

QuantizedTensor fake_quant_with_params(const torch::Tensor& x_in, const QuantParams& params,
                                       const QuantSpec& spec, const FakeQuantOptions& options) {
  check_input(x_in, "fake_quant");
  validate(spec);
  if (!spec.enabled()) return {x_in, {}, {}, {}};

  const auto dtype = work_dtype(x_in);
  torch::Tensor x = x_in.to(dtype);
  torch::Tensor scale = params.scale.to(dtype);
  torch::Tensor zero = params.zero.to(dtype);
  const bool grouped = spec.granularity == Granularity::per_group;
  if (grouped) {
    x = to_groups(x, spec);          // (..., K/G, G)
    scale = scale.unsqueeze(-1);     // (..., K/G, 1)
    zero = zero.unsqueeze(-1);
  }

  const double q_min = spec.symmetric ? -double(symmetric_qmax(spec)) : 0.0;
  const double q_max = spec.symmetric ? double(symmetric_qmax(spec)) : double(spec.levels() - 1);
  torch::Tensor q;
  try {
    q = clamp_strict_gradient(round_ste(x / scale) + zero, q_min, q_max);
  } catch (const c10::Error&) {
    throw Error(cat("fake_quant: scale of shape ", shape_of(params.scale), " does not fit tensor of shape ",
                    shape_of(x_in), " for granularity ", to_string(spec.granularity)));
  }
  torch::Tensor fake = (q - zero) * scale;
  if (grouped) {
    fake = from_groups(fake, x_in.sizes());
    q = from_groups(q, x_in.sizes());
  }

  QuantizedTensor out;
  out.fake = fake.to(x_in.scalar_type());
  if (options.with_codes) out.codes = q.detach().to(torch::kInt);
  out.scale = params.scale;
  out.zero = params.zero;
  return out;
}

QuantizedTensor fake_quant_with_range(const torch::Tensor& x, const QuantRange& range, const QuantSpec& spec,
                                      const FakeQuantOptions& options) {
  validate(spec);
  if (!spec.enabled()) {
    check_input(x, "fake_quant");
    return {x, {}, {}, {}};
  }
  return fake_quant_with_params(x, params_from_range(range, spec, options), spec, options);
}

QuantizedTensor fake_quant(const torch::Tensor& x, const QuantSpec& spec, const FakeQuantOptions& options) {
  validate(spec);
  if (!spec.enabled()) {
    check_input(x, "fake_quant");
    return {x, {}, {}, {}};
  }
  return fake_quant_with_range(x, compute_range(x, spec), spec, options);
}

torch::Tensor dequantize(const torch::Tensor& codes, const torch::Tensor& scale, const torch::Tensor& zero,
                         const QuantSpec& spec) {
  const auto dtype = work_dtype(scale);
  const auto q = codes.to(dtype);
  if (spec.granularity == Granularity::per_group) {
    const auto groups = to_groups(q, spec);  // (..., ceil(K/G), G)
    return from_groups((groups - zero.to(dtype).unsqueeze(-1)) * scale.to(dtype).unsqueeze(-1), codes.sizes());
  }
  return (q - zero.to(dtype)) * scale.to(dtype);
}

// ---- RangeObserver

RangeObserver::RangeObserver(const QuantSpec& spec) : spec_(spec) {
  validate(spec_);
  const auto g = spec_.granularity;
  if (g != Granularity::per_tensor && g != Granularity::per_channel && g != Granularity::per_head) {
    throw Error(cat("static (calibrated) ranges support per_tensor, per_channel and per_head; got ",
                    to_string(g), ", whose ranges belong to one vector and must be dynamic"));
  }
}

QuantRange RangeObserver::batch_range(const torch::Tensor& x_in) const {
  check_input(x_in, "RangeObserver");
  const torch::Tensor x = x_in.detach().to(work_dtype(x_in));
  switch (spec_.granularity) {
    case Granularity::per_channel: {
      const auto rows = x.reshape({-1, x.size(-1)});  // (tokens, C)
      return {std::get<0>(rows.min(0)), std::get<0>(rows.max(0))};  // (C)
    }
    case Granularity::per_head:
      if (x.dim() != 4) {
        throw Error(cat("per_head static range needs a [B, H, T, D] tensor; got shape ", shape_of(x)));
      }
      return {x.amin({0, 2, 3}, /*keepdim=*/true), x.amax({0, 2, 3}, /*keepdim=*/true)};  // (1, H, 1, 1)
    default:
      return {x.min(), x.max()};
  }
}

void RangeObserver::observe(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  QuantRange r = batch_range(x);
  if (batches_ == 0) {
    min_ = r.min;
    max_ = r.max;
  } else {
    if (r.min.sizes() != min_.sizes()) {
      throw Error(cat("RangeObserver (", to_string(spec_.granularity), "): batch of shape ", shape_of(x),
                      " gives ranges of shape ", shape_of(r.min), " but earlier batches gave ", shape_of(min_)));
    }
    min_ = torch::min(min_, r.min.to(min_.device()));
    max_ = torch::max(max_, r.max.to(max_.device()));
  }
  ++batches_;
}

QuantRange RangeObserver::range() const {
  if (batches_ == 0) {
    throw Error(cat("RangeObserver (", describe(spec_), "): no calibration batch observed yet; call observe() first"));
  }
  return {min_, max_};
}

QuantizedTensor RangeObserver::quantize(const torch::Tensor& x, const FakeQuantOptions& options) const {
  if (!spec_.enabled()) {
    check_input(x, "RangeObserver");
    return {x, {}, {}, {}};
  }
  QuantRange r = range();
  return fake_quant_with_range(x, {r.min.to(x.device()), r.max.to(x.device())}, spec_, options);
}

void RangeObserver::reset() {
  min_ = torch::Tensor();
  max_ = torch::Tensor();
  batches_ = 0;
}

}  // namespace abq::quant
