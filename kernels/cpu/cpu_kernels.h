/* cpu_kernels.h: the CPU backend of the kernel C API (kernels/kernels.h), over HOST pointers.
 *
 * Same structs, formats, packed layouts, preconditions and epilogue as abq_gemm /
 * abq_quantize_activations, so one packing serves both backends. Differences:
 *   - every pointer is a host pointer; abq_gemm_args.stream must be NULL (calls are synchronous);
 *   - out_dtype may also be ABQ_DTYPE_F32; weight-only activations (bits = 16) are in the output
 *     dtype, so an fp32 model passes fp32 activations and receives fp32 outputs;
 *   - abq_cpu_quantize_activations also takes fp32 input (x_dtype = ABQ_DTYPE_F32).
 * Integer paths (bitplane, int8_unpack) equal kernels/reference bit for bit on every ISA, provided
 * |zero-points| < 2^20 (the zero-point fold runs in double, exact below 2^53). The weight-only path
 * accumulates in fp32 (another summation order than the reference's double; see its tests).
 *
 * Datapaths are chosen at run time from CPUID: avx512 (F+BW+VL+DQ+VNNI+VPOPCNTDQ), avxvnni
 * (AVX2+FMA+AVX-VNNI), avx2 (AVX2+FMA+POPCNT) and the portable scalar code. The environment
 * variable ABQ_CPU_ISA=scalar|avx2|avxvnni|avx512, read at the first call, or abq_cpu_force_isa
 * forces one (for tests and benchmarks). Work is split over N on the OpenMP pool: every call uses
 * abq_cpu_threads() threads (default: omp_get_max_threads(), i.e. OMP_NUM_THREADS).
 */
#ifndef ABQ_KERNELS_CPU_CPU_KERNELS_H_
#define ABQ_KERNELS_CPU_CPU_KERNELS_H_

#include "kernels/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  ABQ_CPU_ISA_AUTO = 0, /* the best the CPU supports */
  ABQ_CPU_ISA_SCALAR = 1,
  ABQ_CPU_ISA_AVX2 = 2,
  ABQ_CPU_ISA_AVXVNNI = 3,
  ABQ_CPU_ISA_AVX512 = 4
} abq_cpu_isa;

/* abq_gemm on host pointers (see kernels.h); out_dtype F16, BF16 or F32. */
abq_status abq_cpu_gemm(const abq_gemm_args* args);

/* abq_quantize_activations on host pointers; x_dtype F16, BF16 or F32. Codes: int8 containers
 * [M][K] (layout ABQ_PATH_INT8_UNPACK) or bit-planes uint32 [bits][M][K/32] (ABQ_PATH_BITPLANE,
 * K % 32 == 0); scales float [M]; zeros int32 [M] (ignored when fmt.is_signed). */
abq_status abq_cpu_quantize_activations(const void* x, abq_dtype x_dtype, int m, int k, abq_act_format fmt,
                                        abq_path layout, void* codes, float* scales, int32_t* zeros);

/* Path the CPU backend would pick for this problem when the caller can pack either layout: the
 * weight-only path for bits = 16, otherwise bitplane or int8_unpack, the faster of the two in the
 * measured tuning table (cpu/cpu_tuning.h; ABQ_CPU_TUNE=FILE or abq_cpu_load_tuning) for the
 * nearest problem of the same bits, else by the cost model of cpu/cpu_path_model.h.
 * ABQ_PATH_AUTO signals an invalid request or an unreadable table (see abq_last_error). */
abq_path abq_cpu_choose_path(int m, int n, int k, abq_weight_format w, abq_act_format x);

/* Loads the tuning table written by `abq_cpu_gemm_bench --tune FILE` (NULL: none, back to the
 * model). ABQ_ERR_INVALID with "file:line: ..." in abq_last_error when it cannot be parsed. */
abq_status abq_cpu_load_tuning(const char* path);

/* Best ISA this CPU supports, and the one calls use now (forced or best). */
abq_cpu_isa abq_cpu_best_isa(void);
abq_cpu_isa abq_cpu_active_isa(void);
/* Forces an ISA for later calls of every thread (ABQ_CPU_ISA_AUTO: back to the best);
 * ABQ_ERR_UNSUPPORTED when this CPU lacks it. */
abq_status abq_cpu_force_isa(abq_cpu_isa isa);
/* "auto", "scalar", "avx2", "avxvnni", "avx512". */
const char* abq_cpu_isa_name(abq_cpu_isa isa);

/* Threads per call (n >= 1; 0 = omp_get_max_threads()). Returns the count now in effect. */
int abq_cpu_set_threads(int n);
int abq_cpu_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* ABQ_KERNELS_CPU_CPU_KERNELS_H_ */
