// Fused dequantize-and-multiply kernels on weights as stored (ggml blocks, f16, bf16), and a row
// decoder, for the runtime's linear layers. Activations and results are f32.
//
// Every output is y[r] = Σ_k W[r,k]·x[k] summed in one fixed order, whatever the path: element k
// goes to lane k mod 32 (four 8-wide accumulators, each updated with a fused multiply-add in
// increasing k), then the 32 lanes are added in a fixed tree. The AVX2 path, the AVX-512 path and
// the portable path (scalar `fmaf`) compute the same values in the same order, so they give the same
// bits.
#ifndef PRUNE_KERNELS_H
#define PRUNE_KERNELS_H

#include <stddef.h>

/// Types, by their ggml type id.
enum {
    PRUNE_KT_F16 = 1, PRUNE_KT_Q4_0 = 2, PRUNE_KT_Q4_1 = 3, PRUNE_KT_Q5_0 = 6, PRUNE_KT_Q5_1 = 7,
    PRUNE_KT_Q8_0 = 8, PRUNE_KT_Q2_K = 10, PRUNE_KT_Q3_K = 11, PRUNE_KT_Q4_K = 12, PRUNE_KT_Q5_K = 13,
    PRUNE_KT_Q6_K = 14, PRUNE_KT_BF16 = 30,
};

/// Paths: the portable one (plain C, any CPU), AVX2+FMA+F16C, and AVX-512 (F, BW, VL, DQ) on top of
/// AVX2. The AVX-512 path has gemv kernels of its own for Q4_0, Q4_1, Q4_K and Q6_K (two
/// 16-wide accumulators; the 4-bit types decode through a 16-entry table of the block's values, one
/// vpermps per 16 values) and runs the AVX2 ones for the other types and for decoding.
enum { PRUNE_KPATH_PORTABLE = 0, PRUNE_KPATH_AVX2 = 1, PRUNE_KPATH_AVX512 = 2 };

/// 1 when the kernels handle ggml type `type` (values per block: `prune_kernels_block_size`).
int prune_kernels_supports(int type);
/// Values per block of `type` (1 for F16/BF16), 0 for a type the kernels do not handle.
int prune_kernels_block_size(int type);
/// 1 when the AVX2 path runs on this CPU (AVX2, FMA, F16C, and the OS saving ymm state).
int prune_kernels_avx2_usable(void);
/// 1 when the AVX-512 path runs on this CPU (the AVX2 path's features, AVX-512 F/BW/VL/DQ, zmm state).
int prune_kernels_avx512_usable(void);

/// y[i·ldy + r] = Σ_{c<k} W[r,c]·x[i·ldx + c] for r < rows, i < m. Row r of W is stored at
/// w + r·row_bytes in `type` (k values, a multiple of the type's block size).
/// `path` must be usable here (PRUNE_KPATH_AVX2 only where `prune_kernels_avx2_usable`,
/// PRUNE_KPATH_AVX512 only where `prune_kernels_avx512_usable`).
void prune_kernels_gemv(int path, int type, const void *w, size_t row_bytes, int rows, int k,
                        const float *x, size_t ldx, int m, float *y, size_t ldy);

/// dst[r·ldd + c] = W[r,c] (the values TensorCodec decodes, bit for bit).
void prune_kernels_decode(int path, int type, const void *w, size_t row_bytes, int rows, int k,
                          float *dst, size_t ldd);

#endif
