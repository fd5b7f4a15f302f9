/* kernels.h: the C API of the arbitrary-bit (WpAq) GEMM engine, over raw pointers.
 *
 * Computes y[M,N] = x[M,K] · W[N,K]ᵀ with quantized operands:
 *
 *   y[m,n] = Σ_g sw[n,g] · Σ_{k∈g} (xq[m,k] − zx[m])·(wq[n,k] − zw[n,g]) · sx[m] + bias[n]
 *
 * G = group size along K (64, 128, or K itself for one group per output channel). The integer part
 * is evaluated exactly in 32-bit integers per group; scales, bias and the fp16/bf16 conversion
 * follow in fp32, in the order written in reference/gemm_reference.h (the CPU reference every
 * path is checked against).
 *
 * Codes. Unsigned formats carry zero-points (wq ∈ [0, levels), zw int32 per (n, group); xq ∈
 * [0, levels), zx int32 per token). Signed formats (no zero-point) are two's complement in `bits`
 * bits, range [−2^(bits−1), 2^(bits−1)). W2* (ABQ-LLM bit balance, 5 levels {0..4}) is an
 * unsigned weight format with bits = 3, levels = 5: stored and executed as 3-bit.
 *
 * Three datapaths, each with its own operand layout (written out in reference/bitplane_pack.h and
 * tile/sliced_layout.h):
 *   ABQ_PATH_BITPLANE     weights and activations as bit-planes, mma.sync b1 AND+popc (sm_80+).
 *   ABQ_PATH_INT8_UNPACK  weights in the sliced layout unpacked to u8 in registers, activations
 *                         as int8 containers, mma.sync m16n8k32 (sm_80+).
 *   ABQ_PATH_WEIGHT_ONLY  weights in the sliced layout, fp16/bf16 activations (bits = 16), fp32
 *                         accumulation on CUDA cores (a GEMV meant for decode, M ≤ 16).
 *
 * The same contract over host pointers, with fp32 output, runs on the CPU: kernels/cpu/cpu_kernels.h.
 *
 * Errors: every function returns an abq_status; abq_last_error() gives the message of the last
 * failure on the calling thread (what was expected, what was found).
 */
#ifndef ABQ_KERNELS_KERNELS_H_
#define ABQ_KERNELS_KERNELS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  ABQ_OK = 0,
  ABQ_ERR_INVALID = 1,     /* bad shape, format or pointer: the caller's mistake */
  ABQ_ERR_UNSUPPORTED = 2, /* valid request this build or device cannot run */
  ABQ_ERR_CUDA = 3         /* a CUDA runtime error (launch or asynchronous) */
} abq_status;

typedef enum {
  ABQ_PATH_AUTO = 0, /* let abq_choose_path pick */
  ABQ_PATH_BITPLANE = 1,
  ABQ_PATH_INT8_UNPACK = 2,
  ABQ_PATH_WEIGHT_ONLY = 3
} abq_path;

/* ABQ_DTYPE_F32 (fp32 output, fp32 weight-only activations and quantizer input) is served by the
 * CPU backend only (kernels/cpu/cpu_kernels.h); the CUDA functions reject it. */
typedef enum { ABQ_DTYPE_F16 = 0, ABQ_DTYPE_BF16 = 1, ABQ_DTYPE_F32 = 2 } abq_dtype;

/* Weight format. bits ∈ 1..8 (storage bits); levels = 2^bits, or 5 with bits = 3 for W2*;
 * 0 means 2^bits. Signed formats need bits ≥ 2 and levels = 2^bits.
 * group_size: 0 = one group per output channel (G = K), else 64 or 128. */
typedef struct {
  int bits;
  int levels;
  int is_signed;
  int group_size;
} abq_weight_format;

/* Activation format. bits ∈ 2..8, or 16 for unquantized fp16/bf16 activations (weight-only).
 * levels as for weights (0 = 2^bits); is_signed = per-token symmetric without zero-point. */
typedef struct {
  int bits;
  int levels;
  int is_signed;
} abq_act_format;

/* Packed weights, all pointers on the device.
 *   codes:  layout of `path` (ABQ_PATH_BITPLANE: bit-planes; otherwise the sliced layout, shared
 *           by ABQ_PATH_INT8_UNPACK and ABQ_PATH_WEIGHT_ONLY)
 *   scales: float [N][K/G]; zeros: int32 [N][K/G], NULL iff fmt.is_signed. */
typedef struct {
  abq_path layout;
  abq_weight_format fmt;
  int n;
  int k;
  const void* codes;
  const float* scales;
  const int32_t* zeros;
} abq_weights;

/* Activations, all pointers on the device.
 *   data:   bits ≤ 8: codes in the layout of the path (bit-planes [bits][M][K/32] uint32 for
 *           ABQ_PATH_BITPLANE; int8 containers [M][K] for ABQ_PATH_INT8_UNPACK, unsigned codes
 *           stored as uint8); bits = 16: fp16/bf16 [M][K] in the output dtype.
 *   scales: float [M] (NULL for bits = 16); zeros: int32 [M], NULL iff signed or bits = 16. */
typedef struct {
  abq_act_format fmt;
  int m;
  int k;
  const void* data;
  const float* scales;
  const int32_t* zeros;
} abq_activations;

typedef struct {
  const abq_weights* w;
  const abq_activations* x;
  const float* bias; /* [N] on the device, or NULL */
  void* y;           /* [M][N] fp16/bf16 on the device */
  abq_dtype out_dtype;
  abq_path force_path; /* ABQ_PATH_AUTO, or a path that must be compatible with the layouts */
  void* stream;        /* cudaStream_t; NULL = default stream */
} abq_gemm_args;

/* Runs the GEMM on the path the packed layouts allow (or force_path). Checks every
 * precondition first: K % 128 == 0, K % G == 0, format ranges, non-NULL pointers, layouts. */
abq_status abq_gemm(const abq_gemm_args* args);

/* Fused per-token activation quantization (ABQ-LLM UniformAffineQuantizer, dynamic per token):
 * x fp16/bf16 [M][K] → codes in the layout of `layout` (ABQ_PATH_BITPLANE or
 * ABQ_PATH_INT8_UNPACK), scales float [M], zeros int32 [M] (ignored when fmt.is_signed). */
abq_status abq_quantize_activations(const void* x, abq_dtype x_dtype, int m, int k, abq_act_format fmt,
                                    abq_path layout, void* codes, float* scales, int32_t* zeros,
                                    void* stream);

/* Roofline choice of path for an (M, N, K, format) problem on compute capability `sm`
 * (80, 90, ...). Returns force when it is not ABQ_PATH_AUTO and valid for the formats, otherwise
 * the path with the smallest modelled time; ABQ_PATH_AUTO signals an invalid request (see
 * abq_last_error). Implemented on the host; needs no GPU. */
abq_path abq_choose_path(int m, int n, int k, abq_weight_format w, abq_act_format x, int sm, abq_path force);

/* Modelled time in microseconds of one GEMM on `path` (H100 SXM figures, see launch/roofline.h);
 * negative when the path cannot run the formats. */
double abq_model_time_us(abq_path path, int m, int n, int k, abq_weight_format w, abq_act_format x);

/* Message of the last failed call on this thread ("" if none). */
const char* abq_last_error(void);

/* Human-readable path name: "auto", "bitplane", "int8_unpack", "weight_only". */
const char* abq_path_name(abq_path path);

#ifdef __cplusplus
}
#endif

#endif /* ABQ_KERNELS_KERNELS_H_ */
