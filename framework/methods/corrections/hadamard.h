// Hadamard matrices and the orthogonal rotations built from them (QuaRot-style corrections).
// A Hadamard matrix H_n has entries ±1 and H_n·H_nᵀ = n·I, so H_n/√n is orthogonal and spreads
// every coordinate evenly over all others: one outlier channel becomes n channels of 1/√n of it.
//
// Constructions (any order they reach; Kronecker products of Hadamard matrices are Hadamard):
//   Sylvester      n = 2^k: H_2n = [[H, H], [H, -H]].
//   Paley I        n = q + 1, q prime, q ≡ 3 (mod 4): H = I + [[0, 1ᵀ], [-1, Q]] with the Jacobsthal
//                  matrix Q_ij = χ(j - i), χ the quadratic character mod q (12, 20, 24, 44, 48, 72, ...).
//   Paley II       n = 2(q + 1), q prime, q ≡ 1 (mod 4): C = [[0, 1ᵀ], [1, Q]], H = C ⊗ [[1, 1],
//                  [1, -1]] + I ⊗ [[1, -1], [-1, -1]] (12, 28, 36, 60, 76, ...).
//   Kronecker      n = a·b with both constructible (576 = 8·72, 1536 = 128·12, 11008 = 2·5504).
// QuaRot (Ashkboos et al. 2024, arXiv 2404.00456) stores fixed matrices of orders 12, 20, 28, 36,
// 40, 44, 52, 60, 108, 140, 156, 172 and combines them with Sylvester's; the constructions here
// reach all of those orders except 52, 156 and 172, and often a multiple that QuaRot needs them for
// (172·64 = 11008 = 2·5504 with 5503 prime).
//
// Sizes with no construction here (n ≢ 0 mod 4 except 1 and 2, e.g. 6, 90; or orders like 4·43)
// fall back, by our choice, to H_{2^k}/√2^k ⊗ R_m where 2^k is the largest power of two dividing n
// and R_m a seeded random orthogonal matrix (QR of a Gaussian matrix, signs fixed by diag R). It is
// orthogonal but spreads outliers only within blocks of m coordinates per Hadamard position.
#pragma once

#include <cstdint>
#include <optional>

#include <torch/torch.h>

namespace abq::methods {

/// H_n with entries ±1 (float64, CPU), or nullopt when none of the constructions above reaches n.
std::optional<torch::Tensor> hadamard_matrix(int64_t n);

/// An orthogonal [n, n] float64 CPU matrix: H_n/√n (or the fallback above), and with random_signs
/// diag(s)·H_n/√n with s ∈ {±1}^n drawn from `seed` (QuaRot's random_hadamard_matrix). Deterministic
/// for a given (n, seed, random_signs). Throws abq::Error for n < 1.
torch::Tensor hadamard_rotation(int64_t n, uint64_t seed, bool random_signs);

}  // namespace abq::methods
