// Integer kernels on 8-bit activations (opt-in: quantizing the activations changes the results).
//
// Activation rows are quantized per block, for the weight type they meet:
//   - K-quant weights (Q4_K, Q6_K): blocks of 256 values, stored as {f32 d; i8 q[256]; i16 s[16]}
//     (292 bytes), s[g] = Σ q[16g ..< 16g+16];
//   - 32-value weights (Q8_0, Q5_0, Q4_0): blocks of 32 values, stored as {f32 d; i8 q[32]} (36 bytes).
// A block x[0..<B] gives amax = max |x_c|, d = amax / 127, and q_c = clamp(rint(x_c · (127 / amax)),
// −127, 127) (0 when amax is 0), every operation in f32, rounding to nearest even.
//
// A weight row times a quantized activation row: in every (super-)block, the integer products are
// summed exactly into 8 lanes: lane l takes the values 32j + 4l ..< 32j + 4l + 4 of each 32-value
// group j (times the group's integer scale for K-quants; Q6_K's lane l less 32·(sc·s) over its
// 16-value groups 2l and 2l+1, the offset of the stored values). Each lane goes into an f32 lane with
// fmaf(d_w · d_x, (float)lane, acc_l), block after block, and the result is the 8 f32 lanes added in
// a fixed tree. Q4_K's mins have their own 8 lanes (lane j: mn_j · (s[2j] + s[2j+1]), added with
// dmin_w · d_x), subtracted at the end. The 32-value types have two sets of 8 f32 lanes, the even
// blocks going to the first and the odd blocks to the second, added at the end (first + second). The AVX2 path and the portable path compute the same integers
// and the same float operations in the same order, so they give the same bits; every output depends
// only on its weight row and activation row.
#ifndef PRUNE_Q8_H
#define PRUNE_Q8_H

#include <stddef.h>

/// A third path for these kernels: AVX-512 (F, BW, VL, DQ) with VNNI, two 32-value groups per zmm
/// register (the same integer lanes and float operations, so the same bits).
enum { PRUNE_Q8PATH_AVX512 = 2 };
/// 1 when the AVX-512 VNNI path runs on this CPU.
int prune_q8_avx512_usable(void);

/// 1 when `type` (a ggml type id) has an 8-bit-activation kernel.
int prune_q8_supports(int type);
/// Values per activation block for weights of `type` (256 or 32), 0 when unsupported.
int prune_q8_block_size(int type);
/// Bytes of one quantized activation row of k values (k a multiple of the block size) for `type`.
size_t prune_q8_row_bytes(int type, int k);

/// Quantizes rows x[i·ldx ..< i·ldx + k] (i < m) for weights of `type`; row i goes to xq + i·row_bytes.
void prune_q8_quantize(int type, const float *x, size_t ldx, int m, int k, void *xq);

/// y[i·ldy + r] = W[r,:] · xq[i] for r < rows, i < m; row r of W at w + r·row_bytes in `type`.
/// `path`: PRUNE_KPATH_PORTABLE, PRUNE_KPATH_AVX2 (where prune_kernels_avx2_usable) or
/// PRUNE_Q8PATH_AVX512 (where prune_q8_avx512_usable).
void prune_q8_gemm(int path, int type, const void *w, size_t row_bytes, int rows, int k,
                   const void *xq, int m, float *y, size_t ldy);

#endif
