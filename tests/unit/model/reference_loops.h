// Plain-loop reference implementations of the LLaMA building blocks, written from the published
// formulas (not from framework/model): RMSNorm x / sqrt(mean(x²) + eps) · w; RoPE rotate_half with
// θ_i = base^(−2i/D); causal softmax attention with GQA head mapping h -> h / (H / Hkv);
// SwiGLU down(silu(gate(x)) · up(x)). Everything in double over std::vector, row-major.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace abq::model::reference {

using Vec = std::vector<double>;

inline Vec to_vec(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return Vec(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

inline torch::Tensor to_tensor(const Vec& v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kFloat64).reshape(shape);
}

// x [N, C], w [C]
inline Vec rms_norm(const Vec& x, const Vec& w, int64_t N, int64_t C, double eps) {
  Vec out(x.size());
  for (int64_t n = 0; n < N; ++n) {
    double sum_sq = 0;
    for (int64_t c = 0; c < C; ++c) sum_sq += x[n * C + c] * x[n * C + c];
    const double inv = 1.0 / std::sqrt(sum_sq / C + eps);
    for (int64_t c = 0; c < C; ++c) out[n * C + c] = x[n * C + c] * inv * w[c];
  }
  return out;
}

// x [N, in], W [out, in], b [out] or empty -> [N, out]
inline Vec linear(const Vec& x, const Vec& W, const Vec& b, int64_t N, int64_t in, int64_t out) {
  Vec y(static_cast<size_t>(N * out));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b.empty() ? 0.0 : b[o];
      for (int64_t i = 0; i < in; ++i) acc += x[n * in + i] * W[o * in + i];
      y[n * out + o] = acc;
    }
  return y;
}

inline Vec default_inv_freq(int64_t D, double base) {
  Vec f(static_cast<size_t>(D / 2));
  for (int64_t i = 0; i < D / 2; ++i) f[i] = std::pow(base, -2.0 * i / D);
  return f;
}

// x [heads, T, D] for one sequence; position t = token index. rotate_half pairs dim i with i + D/2.
inline Vec rope(const Vec& x, const Vec& inv_freq, int64_t heads, int64_t T, int64_t D) {
  Vec out(x.size());
  const int64_t half = D / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t t = 0; t < T; ++t) {
      const double* row = &x[(h * T + t) * D];
      double* o = &out[(h * T + t) * D];
      for (int64_t i = 0; i < half; ++i) {
        const double a = t * inv_freq[i], c = std::cos(a), s = std::sin(a);
        o[i] = row[i] * c - row[i + half] * s;
        o[i + half] = row[i + half] * c + row[i] * s;
      }
    }
  return out;
}

// q [H, T, D], k / v [Hkv, T, D] for one sequence -> [H, T, D]
inline Vec causal_attention(const Vec& q, const Vec& k, const Vec& v, int64_t H, int64_t Hkv, int64_t T,
                            int64_t D) {
  Vec out(static_cast<size_t>(H * T * D), 0.0);
  const int64_t group = H / Hkv;
  for (int64_t h = 0; h < H; ++h) {
    const int64_t kvh = h / group;
    for (int64_t t = 0; t < T; ++t) {
      Vec score(static_cast<size_t>(t + 1));
      double mx = -1e300;
      for (int64_t s = 0; s <= t; ++s) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += q[(h * T + t) * D + d] * k[(kvh * T + s) * D + d];
        score[s] = dot / std::sqrt(static_cast<double>(D));
        mx = std::max(mx, score[s]);
      }
      double denom = 0;
      for (int64_t s = 0; s <= t; ++s) denom += (score[s] = std::exp(score[s] - mx));
      for (int64_t s = 0; s <= t; ++s)
        for (int64_t d = 0; d < D; ++d) out[(h * T + t) * D + d] += score[s] / denom * v[(kvh * T + s) * D + d];
    }
  }
  return out;
}

inline double silu(double x) { return x / (1.0 + std::exp(-x)); }

// x [N, C]; gate / up [F, C], down [C, F]
inline Vec swiglu(const Vec& x, const Vec& gate, const Vec& up, const Vec& down, int64_t N, int64_t C, int64_t F) {
  Vec g = linear(x, gate, {}, N, C, F), u = linear(x, up, {}, N, C, F);
  for (size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
  return linear(g, down, {}, N, F, C);
}

// [T, heads*D] (token-major) <-> [heads, T, D]
inline Vec split_heads(const Vec& x, int64_t T, int64_t heads, int64_t D) {
  Vec out(x.size());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t d = 0; d < D; ++d) out[(h * T + t) * D + d] = x[t * heads * D + h * D + d];
  return out;
}
inline Vec merge_heads(const Vec& x, int64_t T, int64_t heads, int64_t D) {
  Vec out(x.size());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t d = 0; d < D; ++d) out[t * heads * D + h * D + d] = x[(h * T + t) * D + d];
  return out;
}

// The attention sub-layer for one sequence x [T, C] (already normalised) -> [T, C].
struct AttnWeights {
  Vec wq, bq, wk, bk, wv, bv, wo;
};
inline Vec attention_layer(const Vec& x, const AttnWeights& w, const Vec& inv_freq, int64_t T, int64_t C, int64_t H,
                           int64_t Hkv, int64_t D) {
  Vec q = split_heads(linear(x, w.wq, w.bq, T, C, H * D), T, H, D);
  Vec k = split_heads(linear(x, w.wk, w.bk, T, C, Hkv * D), T, Hkv, D);
  Vec v = split_heads(linear(x, w.wv, w.bv, T, C, Hkv * D), T, Hkv, D);
  q = rope(q, inv_freq, H, T, D);
  k = rope(k, inv_freq, Hkv, T, D);
  Vec o = merge_heads(causal_attention(q, k, v, H, Hkv, T, D), T, H, D);
  return linear(o, w.wo, {}, T, H * D, C);
}

}  // namespace abq::model::reference
