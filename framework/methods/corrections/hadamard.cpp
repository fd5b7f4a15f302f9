#include "framework/methods/corrections/hadamard.h"

#include <cmath>
#include <map>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>

#include "framework/core/error.h"

namespace abq::methods {
namespace {

bool is_prime(int64_t q) {
  if (q < 2) return false;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0) return false;
  return true;
}

bool is_power_of_two(int64_t n) { return n >= 1 && (n & (n - 1)) == 0; }

// χ(a) for a = 0..q-1: 0 at 0, +1 on the non-zero squares mod q, -1 elsewhere.
std::vector<int> quadratic_character(int64_t q) {
  std::vector<int> chi(size_t(q), -1);
  chi[0] = 0;
  for (int64_t x = 1; x < q; ++x) chi[size_t((x * x) % q)] = 1;
  return chi;
}

// Jacobsthal matrix Q_ij = χ(j - i mod q), [q, q].
torch::Tensor jacobsthal(int64_t q) {
  const auto chi = quadratic_character(q);
  auto m = torch::empty({q, q}, torch::kFloat64);
  auto a = m.accessor<double, 2>();
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < q; ++j) a[i][j] = chi[size_t(((j - i) % q + q) % q)];
  return m;
}

torch::Tensor sylvester(int64_t n) {
  auto h = torch::ones({1, 1}, torch::kFloat64);
  const auto h2 = torch::tensor({{1.0, 1.0}, {1.0, -1.0}}, torch::kFloat64);
  while (h.size(0) < n) h = torch::kron(h2, h);
  return h;
}

torch::Tensor paley1(int64_t q) {
  auto h = torch::empty({q + 1, q + 1}, torch::kFloat64);
  h.index_put_({0, torch::indexing::Slice()}, 1.0);
  h.index_put_({torch::indexing::Slice(1), 0}, -1.0);
  h.index_put_({torch::indexing::Slice(1), torch::indexing::Slice(1)},
               jacobsthal(q) + torch::eye(q, torch::kFloat64));
  return h;
}

torch::Tensor paley2(int64_t q) {
  auto c = torch::zeros({q + 1, q + 1}, torch::kFloat64);
  c.index_put_({0, torch::indexing::Slice(1)}, 1.0);
  c.index_put_({torch::indexing::Slice(1), 0}, 1.0);
  c.index_put_({torch::indexing::Slice(1), torch::indexing::Slice(1)}, jacobsthal(q));
  const auto a = torch::tensor({{1.0, 1.0}, {1.0, -1.0}}, torch::kFloat64);
  const auto b = torch::tensor({{1.0, -1.0}, {-1.0, -1.0}}, torch::kFloat64);
  return torch::kron(c, a) + torch::kron(torch::eye(q + 1, torch::kFloat64), b);
}

// How to build H_n: a direct construction, a split n = a·b, or none. Memoized per n.
struct Recipe {
  enum Kind { none, sylvester, paley1, paley2, product } kind = none;
  int64_t a = 0;  // product: the first factor
};

Recipe recipe(int64_t n, std::map<int64_t, Recipe>& memo) {
  if (auto it = memo.find(n); it != memo.end()) return it->second;
  Recipe r;
  if (is_power_of_two(n)) {
    r.kind = Recipe::sylvester;
  } else if (n % 4 == 0) {
    if (is_prime(n - 1) && (n - 1) % 4 == 3) {
      r.kind = Recipe::paley1;
    } else if (is_prime(n / 2 - 1) && (n / 2 - 1) % 4 == 1) {
      r.kind = Recipe::paley2;
    } else {
      for (int64_t a = 2; a * a <= n && r.kind == Recipe::none; ++a)
        if (n % a == 0 && recipe(a, memo).kind != Recipe::none && recipe(n / a, memo).kind != Recipe::none)
          r = {Recipe::product, a};
    }
  }
  memo[n] = r;
  return r;
}

torch::Tensor build(int64_t n, std::map<int64_t, Recipe>& memo) {
  const auto r = recipe(n, memo);
  switch (r.kind) {
    case Recipe::sylvester: return sylvester(n);
    case Recipe::paley1: return paley1(n - 1);
    case Recipe::paley2: return paley2(n / 2 - 1);
    case Recipe::product: return torch::kron(build(r.a, memo), build(n / r.a, memo));
    case Recipe::none: break;
  }
  throw std::logic_error("hadamard build: no recipe");
}

// A seeded random orthogonal [m, m]: QR of a Gaussian matrix with R's diagonal made positive.
torch::Tensor random_orthogonal(int64_t m, at::Generator& gen) {
  auto g = torch::randn({m, m}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  auto [q, r] = torch::linalg_qr(g);
  return (q * torch::sign(r.diagonal()).unsqueeze(0)).contiguous();  // QR's Q is column-major
}

}  // namespace

std::optional<torch::Tensor> hadamard_matrix(int64_t n) {
  if (n < 1) return std::nullopt;
  std::map<int64_t, Recipe> memo;
  if (recipe(n, memo).kind == Recipe::none) return std::nullopt;
  return build(n, memo);
}

torch::Tensor hadamard_rotation(int64_t n, uint64_t seed, bool random_signs) {
  if (n < 1) throw Error(cat("a rotation needs a size >= 1, got ", n));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::Tensor q;
  if (auto h = hadamard_matrix(n)) {
    q = *h / std::sqrt(double(n));
  } else {
    int64_t p = 1;
    while (n % (2 * p) == 0) p *= 2;
    q = torch::kron(sylvester(p) / std::sqrt(double(p)), random_orthogonal(n / p, gen));
  }
  if (random_signs) {
    auto s = torch::randint(0, 2, {n}, gen, torch::TensorOptions().dtype(torch::kFloat64)) * 2 - 1;
    q = s.unsqueeze(1) * q;  // diag(s)·H/√n
  }
  return q.contiguous();
}

}  // namespace abq::methods
