// Packed linears on the packed GEMM backend (packed_gemm.h).
#include "framework/packed/packed_linear.h"

#include "framework/core/error.h"
#include "framework/packed/kernel_format.h"
#include "framework/packed/packed_gemm.h"

namespace abq::packed {
namespace {

torch::Tensor host_f32(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat32).contiguous(); }

}  // namespace

PackedLinearKernel::PackedLinearKernel(PackedWeight weight, const quant::QuantSpec& activations)
    : activations_(activations), act_format_(activation_format(activations)) {
  weight_ = repack(weight, preferred_layout(weight.format, act_format_));
}

torch::Tensor PackedLinearKernel::forward(const torch::Tensor& x, const torch::Tensor& bias) const {
  ABQ_ASSERT(x.dim() >= 1 && x.size(-1) == weight_.k, "packed linear expects [..., ", weight_.k, "], got ", x.sizes());
  const torch::Tensor x2 = host_f32(x).view({-1, weight_.k});
  const int64_t m = x2.size(0);
  torch::Tensor b = bias.defined() ? host_f32(bias) : torch::Tensor();
  torch::Tensor y = torch::empty({m, weight_.n}, torch::kFloat32);
  const float* xp = x2.data_ptr<float>();
  const float* bp = b.defined() ? b.data_ptr<float>() : nullptr;
  float* yp = y.data_ptr<float>();
  packed_gemm(weight_, act_format_, xp, m, bp, yp);  // the backend splits the work over its threads
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = weight_.n;
  return y.view(shape).to(x.device(), x.scalar_type());
}

torch::Tensor PackedLinearKernel::dequantized() const {
  std::vector<float> w = dequantize(weight_);
  return torch::from_blob(w.data(), {weight_.n, weight_.k}, torch::kFloat32).clone();
}

std::string PackedLinearKernel::describe() const {
  return cat(quant::describe(weight_.spec, "w"), " as ", packed::describe(weight_.format), " in ",
             abq_path_name(weight_.layout), " layout, K ", weight_.k,
             weight_.k_padded != weight_.k ? cat(" padded to ", weight_.k_padded) : std::string(),
             act_format_.bits == 16 ? std::string(", fp input") : cat(", fused ", quant::describe(activations_, "a")),
             " (", packed_gemm_backend(), ")");
}

PackedWeight pack_quantized(const quant::QuantSpec& spec, const torch::Tensor& codes, const torch::Tensor& scale,
                            const torch::Tensor& zero) {
  ABQ_ASSERT(codes.defined() && codes.dim() == 2, "pack_quantized needs codes [out, in]");
  const torch::Tensor c = codes.detach().to(torch::kCPU, torch::kInt32).contiguous();
  const torch::Tensor s = host_f32(scale).reshape({-1});
  const torch::Tensor z = zero.defined() ? host_f32(zero).reshape({-1}) : torch::zeros_like(s);
  const int64_t n = c.size(0), k = c.size(1);
  const int64_t want = spec.granularity == quant::Granularity::per_tensor ? 1
                       : spec.granularity == quant::Granularity::per_group
                           ? n * ((k + spec.group_size - 1) / spec.group_size)
                           : n;
  if (s.numel() != want || z.numel() != want)
    throw Error(cat("pack_quantized: ", quant::describe(spec, "w"), " on [", n, ", ", k, "] needs ", want,
                    " scales and zero-points, got ", s.numel(), " and ", z.numel()));
  const abq_act_format fp{16, 0, 0};
  return pack_weight(spec, n, k, c.data_ptr<int32_t>(), s.data_ptr<float>(), z.data_ptr<float>(),
                     preferred_layout(weight_format(spec), fp));
}

std::shared_ptr<const PackedLinearKernel> make_packed_linear(PackedWeight weight, const quant::QuantSpec& activations) {
  const bool fusable = activation_fusion_problem(activations).empty();
  return std::make_shared<const PackedLinearKernel>(std::move(weight), fusable ? activations : quant::QuantSpec{});
}

}  // namespace abq::packed
