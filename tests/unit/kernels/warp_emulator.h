// CPU warp emulator: runs the gemm/ kernels' own source on the host so that their indexing, group
// logic, shuffles and epilogues are exercised without a GPU. Each CUDA thread of a CTA is a
// std::thread; warp-collective operations (__shfl*_sync, __ballot_sync, mma.sync) exchange values
// through per-warp slots between two warp barriers, __syncthreads is a CTA barrier. The MMA
// fragment layouts emulated here are those of the PTX ISA ("Matrix fragments for mma.m8n8k128"
// and "mma.m16n8k32"), the same contract arch/mma_sm80.cuh documents; the emulator cannot
// confirm that contract against hardware, only everything built on it.
//
// Include this header before any kernels/ .cuh and compile with -DABQ_KERNELS_WARP_EMULATION.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace abq::kernels::emulation {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t generation = generation_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation != generation_; });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
};

// One CTA: barriers and exchange slots (6 words per thread: the widest collective is the u8 MMA
// with 4 A registers and 2 B registers).
struct Cta {
  explicit Cta(int threads) : block(threads), slots(static_cast<size_t>(threads) * 6) {
    for (int w = 0; w < (threads + 31) / 32; ++w) warps.push_back(std::make_unique<Barrier>(32));
  }
  Barrier block;
  std::vector<std::unique_ptr<Barrier>> warps;
  std::vector<uint32_t> slots;
};

inline thread_local Cta* tl_cta = nullptr;
inline thread_local int tl_tid = 0;

inline int lane() { return tl_tid & 31; }
inline int warp_base() { return tl_tid & ~31; }
inline void warp_sync() { tl_cta->warps[tl_tid >> 5]->arrive_and_wait(); }
inline uint32_t& slot(int tid, int i) { return tl_cta->slots[static_cast<size_t>(tid) * 6 + i]; }

}  // namespace abq::kernels::emulation

// CUDA built-in variables and intrinsics, in the global namespace like the real ones.
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
// Shared memory: one instance shared by every emulated thread (CTAs run one at a time).
#undef __shared__
#define __shared__ static
inline thread_local abq::kernels::emulation::Dim3 threadIdx, blockIdx, blockDim, gridDim;

inline void __syncthreads() { abq::kernels::emulation::tl_cta->block.arrive_and_wait(); }

inline uint32_t abq_emulated_exchange(uint32_t value, int src_lane) {
  using namespace abq::kernels::emulation;
  slot(tl_tid, 0) = value;
  warp_sync();
  const uint32_t out = slot(warp_base() + (src_lane & 31), 0);
  warp_sync();
  return out;
}
inline int __shfl_sync(unsigned, int v, int src) { return static_cast<int>(abq_emulated_exchange(static_cast<uint32_t>(v), src)); }
inline int __shfl_xor_sync(unsigned, int v, int mask) {
  return static_cast<int>(abq_emulated_exchange(static_cast<uint32_t>(v), abq::kernels::emulation::lane() ^ mask));
}
inline float __shfl_xor_sync(unsigned, float v, int mask) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u = abq_emulated_exchange(u, abq::kernels::emulation::lane() ^ mask);
  std::memcpy(&v, &u, 4);
  return v;
}
inline unsigned __ballot_sync(unsigned, int predicate) {
  using namespace abq::kernels::emulation;
  slot(tl_tid, 0) = predicate != 0;
  warp_sync();
  unsigned out = 0;
  for (int l = 0; l < 32; ++l) out |= slot(warp_base() + l, 0) << l;
  warp_sync();
  return out;
}

inline int __popc(unsigned v) { return __builtin_popcount(v); }
template <typename T>
inline T __ldg(const T* p) { return *p; }
inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
  for (int i = 0; i < 4; ++i) c += ((a >> (8 * i)) & 0xffu) * ((b >> (8 * i)) & 0xffu);
  return c;
}
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __ll2float_rn(long long v) { return static_cast<float>(v); }
inline float __fdiv_rn(float a, float b) { return a / b; }

// mma.sync m8n8k128 b1 AND+popc: lane (g, t) holds A row g / B column g, bits [32t, 32t+32).
inline void abq_emulated_mma_b1_and_m8n8k128(int (&d)[2], uint32_t a, uint32_t b, const int (&c)[2]) {
  using namespace abq::kernels::emulation;
  slot(tl_tid, 0) = a;
  slot(tl_tid, 1) = b;
  warp_sync();
  const int g = lane() >> 2, t = lane() & 3, base = warp_base();
  int out[2];
  for (int e = 0; e < 2; ++e) {
    const int col = 2 * t + e;
    int sum = c[e];
    for (int w = 0; w < 4; ++w) sum += __popc(slot(base + 4 * g + w, 0) & slot(base + 4 * col + w, 1));
    out[e] = sum;
  }
  warp_sync();
  d[0] = out[0];
  d[1] = out[1];
}

// mma.sync m16n8k32 u8.u8: a[0] row g k 4t.., a[1] row g+8, a[2]/a[3] the same at k+16;
// b[0] column g k 4t.., b[1] k+16; d[0..1] row g cols 2t, 2t+1; d[2..3] row g+8.
inline void abq_emulated_mma_u8_m16n8k32(int (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const int (&c)[4]) {
  using namespace abq::kernels::emulation;
  for (int i = 0; i < 4; ++i) slot(tl_tid, i) = a[i];
  slot(tl_tid, 4) = b[0];
  slot(tl_tid, 5) = b[1];
  warp_sync();
  const int g = lane() >> 2, t = lane() & 3, base = warp_base();
  auto a_at = [&](int row, int k) {
    const int reg = (row >= 8 ? 1 : 0) + (k >= 16 ? 2 : 0);
    return (slot(base + 4 * (row % 8) + (k % 16) / 4, reg) >> (8 * (k % 4))) & 0xffu;
  };
  auto b_at = [&](int k, int col) { return (slot(base + 4 * col + (k % 16) / 4, 4 + (k >= 16)) >> (8 * (k % 4))) & 0xffu; };
  int out[4];
  for (int r = 0; r < 4; ++r) {
    const int row = g + (r >= 2 ? 8 : 0), col = 2 * t + (r & 1);
    int sum = c[r];
    for (int k = 0; k < 32; ++k) sum += static_cast<int>(a_at(row, k) * b_at(k, col));
    out[r] = sum;
  }
  warp_sync();
  for (int r = 0; r < 4; ++r) d[r] = out[r];
}

namespace abq::kernels::emulation {

/// Runs `kernel` over the grid, one CTA at a time, each CTA's threads concurrently.
inline void launch(Dim3 grid, Dim3 block, const std::function<void()>& kernel) {
  for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
      const int threads = static_cast<int>(block.x);
      Cta cta(threads);
      std::vector<std::thread> pool;
      for (int tid = 0; tid < threads; ++tid)
        pool.emplace_back([&, tid] {
          tl_cta = &cta;
          tl_tid = tid;
          threadIdx = {static_cast<unsigned>(tid), 0, 0};
          blockIdx = {bx, by, 0};
          blockDim = block;
          gridDim = grid;
          kernel();
        });
      for (auto& th : pool) th.join();
    }
}

}  // namespace abq::kernels::emulation
