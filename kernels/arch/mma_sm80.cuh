// mma.sync instructions of the sm_80+ datapaths, one struct per PTX form, no layout logic
// (fragment contracts live in tile/). PTX ISA, "Matrix fragments for mma.m8n8k128 / mma.m16n8k32".
// Under ABQ_KERNELS_WARP_EMULATION (host builds of the kernels in the CPU tests) the instructions
// call the emulator's functions instead.
#pragma once

#include <cstdint>

namespace abq::kernels::arch {

/// mma.sync.aligned.m8n8k128.row.col.s32.b1.b1.s32.and.popc (sm_80+; native BMMA AND, unlike XOR
/// which sm_90 emulates). Lane (g = lane/4, t = lane%4): a = row g bits k ∈ [32t, 32t+32);
/// b = column g, same k; d[e] = row g, column 2t + e.
struct MmaB1AndM8N8K128 {
  static __device__ __forceinline__ void run(int (&d)[2], uint32_t a, uint32_t b, const int (&c)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m8n8k128.row.col.s32.b1.b1.s32.and.popc {%0,%1}, {%2}, {%3}, {%4,%5};\n"
        : "=r"(d[0]), "=r"(d[1])
        : "r"(a), "r"(b), "r"(c[0]), "r"(c[1]));
#elif defined(ABQ_KERNELS_WARP_EMULATION)
    abq_emulated_mma_b1_and_m8n8k128(d, a, b, c);  // tests/unit/kernels/warp_emulator.h
#else
    __trap();
#endif
  }
};

/// mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 (sm_80+). Lane (g, t): a[0] = row g,
/// k ∈ [4t, 4t+4); a[1] = row g+8, same k; a[2], a[3] = the same rows at k + 16; b[0] = column g,
/// k ∈ [4t, 4t+4); b[1] = k + 16; d[0..1] = row g, columns 2t, 2t+1; d[2..3] = row g+8.
struct MmaU8M16N8K32 {
  static __device__ __forceinline__ void run(int (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                             const int (&c)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%11,%12,%13};\n"
        : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]),
          "r"(c[3]));
#elif defined(ABQ_KERNELS_WARP_EMULATION)
    abq_emulated_mma_u8_m16n8k32(d, a, b, c);  // tests/unit/kernels/warp_emulator.h
#else
    __trap();
#endif
  }
};

}  // namespace abq::kernels::arch
