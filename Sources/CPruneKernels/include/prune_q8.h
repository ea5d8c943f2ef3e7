// Integer kernels on 8-bit activations (opt-in: quantizing the activations changes the results).
//
// Activation rows are quantized per block, for the weight type they meet:
//   - K-quant weights (Q4_K, Q6_K): blocks of 256 values, stored as {f32 d; i8 q[256]; i16 s[16]}
//     (292 bytes), s[g] = Σ q[16g ..< 16g+16];
//   - 32-value weights (Q8_0, Q5_0, Q4_0, Q4_1, Q5_1): blocks of 32 values, stored as {f32 d; i8 q[32]}
//     (36 bytes).
// A block x[0..<B] gives amax = max |x_c|, d = amax / 127, and q_c = clamp(rint(x_c · (127 / amax)),
// −127, 127) (0 when amax is 0), every operation in f32, rounding to nearest even (amax ignores
// NaN; a NaN product quantizes to −127).
//
// A weight row times a quantized activation row: in every (super-)block, the integer products are
// summed exactly into 8 lanes: lane l takes the values 32j + 4l ..< 32j + 4l + 4 of each 32-value
// group j (times the group's integer scale for K-quants; Q6_K's lane l less 32·(sc·s) over its
// 16-value groups 2l and 2l+1, the offset of the stored values). Each lane goes into an f32 lane with
// fmaf(d_w · d_x, (float)lane, acc_l), block after block, and the result is the 8 f32 lanes added in
// a fixed tree. Q4_K's mins have their own 8 lanes (lane j: mn_j · (s[2j] + s[2j+1]), added with
// dmin_w · d_x), subtracted at the end. The 32-value types have two sets of 8 f32 lanes, the even
// blocks going to the first and the odd blocks to the second, added at the end (first + second).
// Q4_1 and Q5_1 (value d·u + m): lane l takes Σ u·q over its 4 values with fl(d_w · d_x), then, in
// the same f32 lane, Σ q over the same 4 values with fl(m_w · d_x) (two fmaf per block). The AVX2 path and the portable path compute the same integers
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

/// 1 when `type` (a ggml type id) has an 8-bit-activation kernel (Q4_K, Q6_K, Q8_0, Q5_0, Q4_0, Q4_1,
/// Q5_1).
int prune_q8_supports(int type);
/// Values per activation block for weights of `type` (256 or 32), 0 when unsupported.
int prune_q8_block_size(int type);
/// Bytes of one quantized activation row of k values (k a multiple of the block size) for `type`.
size_t prune_q8_row_bytes(int type, int k);

/// Quantizes rows x[i·ldx ..< i·ldx + k] (i < m) for weights of `type`; row i goes to xq + i·row_bytes.
/// `path` as for `prune_q8_gemm` (the AVX paths share one AVX2 quantizer); every path gives the same bytes.
void prune_q8_quantize(int path, int type, const float *x, size_t ldx, int m, int k, void *xq);

/// y[i·ldy + r] = W[r,:] · xq[i] for r < rows, i < m; row r of W at w + r·row_bytes in `type`.
/// `path`: PRUNE_KPATH_PORTABLE, PRUNE_KPATH_AVX2 (where prune_kernels_avx2_usable) or
/// PRUNE_Q8PATH_AVX512 (where prune_q8_avx512_usable).
void prune_q8_gemm(int path, int type, const void *w, size_t row_bytes, int rows, int k,
                   const void *xq, int m, float *y, size_t ldy);

// The tiled product for many activation rows (prompts), same quantized activations:
//   - a panel holds a block of weight rows decoded once into 16-bit integers: rows in groups of 16
//     (a multiple of 32 rows in all, the padding zero), each group block after block; a block of B
//     values (256 for K-quants, 32 otherwise) holds B/2 pairs × 16 rows (int16 pairs: values 2t and
//     2t + 1 of row l at pair t, lane l), then d_w of the 16 rows (f32); Q4_K adds −dmin of the 16
//     rows (f32) and 8 pairs × 16 rows of its mins (mn_j twice, for the sums s[2j], s[2j+1]). The
//     values carry the block's integer sub-scales and lose their offset: Q4_K sc_j·q, Q6_K
//     sc_g·(q − 32), Q8_0 q, Q4_0 q − 8, Q5_0 q − 16, Q4_1 and Q5_1 their stored values u. Q4_1 and
//     Q5_1 have a min as Q4_K does: its f32 is m_w (not negated) and its integer min is 1.
//   - an activation panel row holds the quantized row's values as int16 (k), its block scales d_x
//     (f32, k/B) and for the types with a min its sums of 16 (int16, k/16).
// Each output y[i, r] is computed whole: per block, isum = Σ v·q exactly in int32, then
// acc = fmaf((float)isum, fl(d_w · d_x), acc) (Q4_K then acc = fmaf((float)msum, fl(−dmin · d_x), acc)
// with msum = Σ_j mn_j·(s[2j] + s[2j+1]); Q4_1 and Q5_1 acc = fmaf((float)msum, fl(m_w · d_x), acc)
// with msum = Σ q, the block's sum), blocks in order from acc = 0. So the portable, AVX2 and
// AVX-512 paths give the same bits, and every output depends only on its weight row and activation
// row (not the same bits as `prune_q8_gemm`, whose float sums run in lanes).

/// Bytes of the panel of `rows` weight rows of k values of `type` (0 when unsupported).
size_t prune_q8_panel_bytes(int type, int rows, int k);
/// Decodes `rows` stored rows (row r at w + r·row_bytes) into `panel` (`prune_q8_panel_bytes`).
void prune_q8_panel(int type, const void *w, size_t row_bytes, int rows, int k, void *panel);
/// Bytes of one activation panel row.
size_t prune_q8_xpanel_row_bytes(int type, int k);
/// Widens m quantized rows (`prune_q8_quantize`) into activation panel rows at xp.
void prune_q8_xpanel(int type, const void *xq, int m, int k, void *xp);
/// y[i·ldy + r] = W[r,:] · x[i] for r < rows, i < m, from a panel and m activation panel rows.
void prune_q8_gemm_panel(int path, int type, const void *panel, int rows, int k, const void *xp, int m,
                         float *y, size_t ldy);

#endif
