// The tiled 8-bit-activation product for many activation rows (prompts); see prune_q8.h for the
// panels and the summation order.
//
// A block of weight rows is decoded once into a panel of 16-bit integers (the K-quants' sub-block
// scales folded in), 16 rows interleaved, so that one vector register holds one pair of values of 16
// rows; the quantized activation rows are widened once into 16-bit pairs. The product is then
// integer multiply-adds (vpdpwssd, or madd + add), exact, with one float step per block and output.
#include "prune_q8.h"
#include "prune_cpu.h"
#include "prune_kernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#define PRUNE_X86 1
#include <immintrin.h>
#endif

#include "scalar.h"

enum { LANES = 16, KB = 256, KB_BYTES = 4 + 256 + 32, SB_BYTES = 4 + 32 };

static int is_k(int type) { return type == PRUNE_KT_Q4_K || type == PRUNE_KT_Q6_K; }
static int has_min(int type) { return type == PRUNE_KT_Q4_K || q32_has_min(type); }
static int block_of(int type) { return is_k(type) ? KB : 32; }

/// Bytes of one block of one 16-row group: B/2 pairs × 16 lanes (int32), d_w × 16 (f32), and for
/// the types with a min dm × 16 (f32) and B/32 min pairs × 16 lanes (int32).
static size_t block_stride(int type) {
    size_t b = (size_t)block_of(type);
    return b * 32 + 64 + (has_min(type) ? 64 + b * 2 : 0);
}

size_t prune_q8_panel_bytes(int type, int rows, int k) {
    if (!prune_q8_supports(type) || rows <= 0 || k % block_of(type)) return 0;
    size_t groups = (size_t)((rows + 31) / 32) * 2;
    return groups * (size_t)(k / block_of(type)) * block_stride(type);
}

size_t prune_q8_xpanel_row_bytes(int type, int k) {
    int b = block_of(type);
    return (size_t)k * 2 + (size_t)(k / b) * 4 + (has_min(type) ? (size_t)k / 8 : 0);
}

// MARK: - Decoding into panels

/// Block `blk` (B values) of a stored row: the 16-bit values v (sub-block scales folded in, offsets
/// removed), the float scale, and for Q4_K the negated min scale and the 8 mins (one per 32 values);
/// for Q4_1 and Q5_1 the min m_w and an integer min of 1 (the min's step is then m_w·d_x·Σ x).
static void decode_block(int type, const uint8_t *row, int blk, int16_t *v, float *dw, float *dm, int16_t *mc) {
    switch (type) {
    case PRUNE_KT_Q4_K: {
        const uint8_t *b = row + 144 * (size_t)blk;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, mn;
            kscale(j, b + 4, &sc, &mn);
            const uint8_t *qs = b + 16 + 32 * (j >> 1);
            int shift = 4 * (j & 1);
            for (int c = 0; c < 32; c++) v[32 * j + c] = (int16_t)(sc * ((qs[c] >> shift) & 15));
            mc[j] = mn;
        }
        *dw = half_to_float(load16(b));
        *dm = -half_to_float(load16(b + 2));
        return;
    }
    case PRUNE_KT_Q6_K: {
        const uint8_t *b = row + 210 * (size_t)blk;
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int g = 0; g < 8; g++) {
            int half = g >> 2, sub = g & 3;
            const uint8_t *ql = b + 64 * half + 32 * (sub & 1), *qh = b + 128 + 32 * half;
            int nshift = sub >= 2 ? 4 : 0, hshift = 2 * sub;
            for (int c = 0; c < 32; c++) {
                int q = ((ql[c] >> nshift) & 15) | (((qh[c] >> hshift) & 3) << 4);
                v[32 * g + c] = (int16_t)(sc[8 * half + 2 * sub + (c >> 4)] * (q - 32));
            }
        }
        *dw = half_to_float(load16(b + 208));
        return;
    }
    case PRUNE_KT_Q4_1:
    case PRUNE_KT_Q5_1: {
        uint8_t u[32];
        *dw = q32m_unpack(type, row + (size_t)q32_block_bytes(type) * blk, u, dm);
        for (int c = 0; c < 32; c++) v[c] = u[c];
        mc[0] = 1;
        return;
    }
    default: {
        int8_t q[32];
        int bb = q32_block_bytes(type);
        *dw = q32_unpack(type, row + (size_t)bb * blk, q);
        for (int c = 0; c < 32; c++) v[c] = q[c];
    }
    }
}

void prune_q8_panel(int type, const void *w, size_t row_bytes, int rows, int k, void *panel) {
    if (!prune_q8_panel_bytes(type, rows, k)) return;
    int B = block_of(type), nb = k / B, mn = has_min(type);
    size_t stride = block_stride(type), gbytes = stride * (size_t)nb;
    int groups = (rows + 31) / 32 * 2;
    int16_t v[KB], mc[8];
    for (int g = 0; g < groups; g++) {
        uint8_t *gp = (uint8_t *)panel + gbytes * (size_t)g;
        // Block by block, the 16 rows of the group filling the same few cache lines.
        for (int blk = 0; blk < nb; blk++) {
            uint8_t *bp = gp + stride * (size_t)blk;
            for (int l = 0; l < LANES; l++) {
                int r = g * LANES + l;
                float dw = 0, dm = 0;
                if (r < rows) {
                    decode_block(type, (const uint8_t *)w + row_bytes * (size_t)r, blk, v, &dw, &dm, mc);
                } else {
                    memset(v, 0, sizeof v);
                    memset(mc, 0, sizeof mc);
                }
                int16_t *pairs = (int16_t *)bp;
                for (int t = 0; t < B / 2; t++) {
                    pairs[2 * (t * LANES + l)] = v[2 * t];
                    pairs[2 * (t * LANES + l) + 1] = v[2 * t + 1];
                }
                memcpy(bp + (size_t)B * 32 + 4 * l, &dw, 4);
                if (mn) {
                    memcpy(bp + (size_t)B * 32 + 64 + 4 * l, &dm, 4);
                    int16_t *mp = (int16_t *)(bp + (size_t)B * 32 + 128);
                    for (int p = 0; p < B / 32; p++) mp[2 * (p * LANES + l)] = mp[2 * (p * LANES + l) + 1] = mc[p];
                }
            }
        }
    }
}

void prune_q8_xpanel(int type, const void *xq, int m, int k, void *xp) {
    if (!prune_q8_supports(type) || k % block_of(type)) return;
    int B = block_of(type), nb = k / B, bb = is_k(type) ? KB_BYTES : SB_BYTES;
    size_t xs = prune_q8_row_bytes(type, k), xr = prune_q8_xpanel_row_bytes(type, k);
    for (int i = 0; i < m; i++) {
        const uint8_t *src = (const uint8_t *)xq + xs * (size_t)i;
        uint8_t *dst = (uint8_t *)xp + xr * (size_t)i;
        int16_t *pairs = (int16_t *)dst;
        float *dx = (float *)(dst + (size_t)k * 2);
        int16_t *bs = (int16_t *)(dst + (size_t)k * 2 + (size_t)nb * 4);
        for (int blk = 0; blk < nb; blk++) {
            const uint8_t *b = src + (size_t)bb * blk;
            memcpy(dx + blk, b, 4);
            const int8_t *q = (const int8_t *)(b + 4);
            for (int c = 0; c < B; c++) pairs[B * blk + c] = q[c];
            if (type == PRUNE_KT_Q4_K) memcpy(bs + 16 * blk, b + 4 + KB, 32);
            else if (has_min(type)) {   // the two sums of 16 of a 32-value block
                int s0 = 0, s1 = 0;
                for (int c = 0; c < 16; c++) { s0 += q[c]; s1 += q[16 + c]; }
                bs[2 * blk] = (int16_t)s0;
                bs[2 * blk + 1] = (int16_t)s1;
            }
        }
    }
}

// MARK: - Portable path

/// Outputs y[i·ldy + l] for i < mr, l < lanes of one 16-row group.
static void p_group(int type, const uint8_t *gp, int nb, const uint8_t *xp, size_t xr, int k, int mr, int lanes,
                    float *y, size_t ldy) {
    int B = block_of(type), mn = has_min(type);
    size_t stride = block_stride(type);
    for (int i = 0; i < mr; i++) {
        const uint8_t *x = xp + xr * (size_t)i;
        const int16_t *xpairs = (const int16_t *)x;
        const float *dx = (const float *)(x + (size_t)k * 2);
        const int16_t *bs = (const int16_t *)(x + (size_t)k * 2 + (size_t)nb * 4);
        for (int l = 0; l < lanes; l++) {
            float acc = 0;
            for (int blk = 0; blk < nb; blk++) {
                const uint8_t *bp = gp + stride * (size_t)blk;
                const int16_t *pairs = (const int16_t *)bp;
                const int16_t *xb = xpairs + B * blk;
                int32_t isum = 0;
                for (int t = 0; t < B / 2; t++) {
                    const int16_t *wp = pairs + 2 * (t * LANES + l);
                    isum += (int32_t)wp[0] * xb[2 * t] + (int32_t)wp[1] * xb[2 * t + 1];
                }
                float dw, d = dx[blk];
                memcpy(&dw, bp + (size_t)B * 32 + 4 * l, 4);
                acc = fmaf((float)isum, dw * d, acc);
                if (mn) {
                    const int16_t *mp = (const int16_t *)(bp + (size_t)B * 32 + 128);
                    const int16_t *sb = bs + (B / 16) * blk;
                    int32_t msum = 0;
                    for (int p = 0; p < B / 32; p++) {
                        const int16_t *wp = mp + 2 * (p * LANES + l);
                        msum += (int32_t)wp[0] * sb[2 * p] + (int32_t)wp[1] * sb[2 * p + 1];
                    }
                    float dmin;
                    memcpy(&dmin, bp + (size_t)B * 32 + 64 + 4 * l, 4);
                    acc = fmaf((float)msum, dmin * d, acc);
                }
            }
            y[ldy * (size_t)i + l] = acc;
        }
    }
}

// MARK: - AVX2 path

#if PRUNE_X86
#define AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) static inline
#define AVX2 __attribute__((target("avx2,fma,f16c")))

/// MR activation rows × one 16-row group (two ymm halves): madd + add, the same integers and floats.
AVX2_INLINE void v_tile(const int B, const int mn, const int MR, const uint8_t *gp, size_t stride, int nb,
                        const uint8_t *xp, size_t xr, int k, int lanes, float *y, size_t ldy) {
    __m256 f[4][2];
    const int32_t *xs[4];
    const float *dx[4];
    const int32_t *bs[4];
    for (int i = 0; i < MR; i++) {
        f[i][0] = f[i][1] = _mm256_setzero_ps();
        const uint8_t *x = xp + xr * (size_t)i;
        xs[i] = (const int32_t *)x;
        dx[i] = (const float *)(x + (size_t)k * 2);
        bs[i] = (const int32_t *)(x + (size_t)k * 2 + (size_t)nb * 4);
    }
    for (int blk = 0; blk < nb; blk++) {
        const uint8_t *bp = gp + stride * (size_t)blk;
        __m256i a[4][2];
        for (int i = 0; i < MR; i++) a[i][0] = a[i][1] = _mm256_setzero_si256();
        for (int t = 0; t < B / 2; t++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(bp + 64 * t));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(bp + 64 * t + 32));
            for (int i = 0; i < MR; i++) {
                __m256i xb = _mm256_set1_epi32(xs[i][B / 2 * blk + t]);
                a[i][0] = _mm256_add_epi32(a[i][0], _mm256_madd_epi16(w0, xb));
                a[i][1] = _mm256_add_epi32(a[i][1], _mm256_madd_epi16(w1, xb));
            }
        }
        const float *dwp = (const float *)(bp + (size_t)B * 32);
        __m256 dw0 = _mm256_loadu_ps(dwp), dw1 = _mm256_loadu_ps(dwp + 8);
        for (int i = 0; i < MR; i++) {
            __m256 d = _mm256_set1_ps(dx[i][blk]);
            f[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a[i][0]), _mm256_mul_ps(dw0, d), f[i][0]);
            f[i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a[i][1]), _mm256_mul_ps(dw1, d), f[i][1]);
        }
        if (mn) {
            const uint8_t *mp = bp + (size_t)B * 32 + 128;
            for (int i = 0; i < MR; i++) a[i][0] = a[i][1] = _mm256_setzero_si256();
            for (int p = 0; p < B / 32; p++) {
                __m256i m0 = _mm256_loadu_si256((const __m256i *)(mp + 64 * p));
                __m256i m1 = _mm256_loadu_si256((const __m256i *)(mp + 64 * p + 32));
                for (int i = 0; i < MR; i++) {
                    __m256i sb = _mm256_set1_epi32(bs[i][B / 32 * blk + p]);
                    a[i][0] = _mm256_add_epi32(a[i][0], _mm256_madd_epi16(m0, sb));
                    a[i][1] = _mm256_add_epi32(a[i][1], _mm256_madd_epi16(m1, sb));
                }
            }
            __m256 dm0 = _mm256_loadu_ps(dwp + 16), dm1 = _mm256_loadu_ps(dwp + 24);
            for (int i = 0; i < MR; i++) {
                __m256 d = _mm256_set1_ps(dx[i][blk]);
                f[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a[i][0]), _mm256_mul_ps(dm0, d), f[i][0]);
                f[i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a[i][1]), _mm256_mul_ps(dm1, d), f[i][1]);
            }
        }
    }
    for (int i = 0; i < MR; i++) {
        float out[16];
        _mm256_storeu_ps(out, f[i][0]);
        _mm256_storeu_ps(out + 8, f[i][1]);
        memcpy(y + ldy * (size_t)i, out, sizeof(float) * (size_t)lanes);
    }
}

#define V_TILES(name, B, MN) \
    AVX2 static void name(int type, const uint8_t *gp, const uint8_t *gp1, size_t stride, int nb, const uint8_t *xp, size_t xr, \
                          int k, int mr, int lanes, int lanes1, float *y, size_t ldy) { \
        (void)type; \
        switch (mr) { \
        case 3: v_tile(B, MN, 3, gp, stride, nb, xp, xr, k, lanes, y, ldy); \
            if (lanes1) v_tile(B, MN, 3, gp1, stride, nb, xp, xr, k, lanes1, y + 16, ldy); break; \
        case 2: v_tile(B, MN, 2, gp, stride, nb, xp, xr, k, lanes, y, ldy); \
            if (lanes1) v_tile(B, MN, 2, gp1, stride, nb, xp, xr, k, lanes1, y + 16, ldy); break; \
        default: v_tile(B, MN, 1, gp, stride, nb, xp, xr, k, lanes, y, ldy); \
            if (lanes1) v_tile(B, MN, 1, gp1, stride, nb, xp, xr, k, lanes1, y + 16, ldy); break; \
        } \
    }
V_TILES(v_tiles_q4k, 256, 1)
V_TILES(v_tiles_k, 256, 0)
V_TILES(v_tiles_32, 32, 0)
V_TILES(v_tiles_32m, 32, 1)

// MARK: - AVX-512 VNNI path

#define AVX512_INLINE __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"), always_inline)) static inline
#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/// MR activation rows × two 16-row groups (32 rows): vpdpwssd with the activation pair broadcast.
AVX512_INLINE void z_tile(const int B, const int mn, const int MR, const uint8_t *g0, const uint8_t *g1, size_t stride,
                          int nb, const uint8_t *xp, size_t xr, int k, int lanes0, int lanes1, float *y, size_t ldy) {
    __m512 f[4][2];
    const int32_t *xs[4];
    const float *dx[4];
    const int32_t *bs[4];
    for (int i = 0; i < MR; i++) {
        f[i][0] = f[i][1] = _mm512_setzero_ps();
        const uint8_t *x = xp + xr * (size_t)i;
        xs[i] = (const int32_t *)x;
        dx[i] = (const float *)(x + (size_t)k * 2);
        bs[i] = (const int32_t *)(x + (size_t)k * 2 + (size_t)nb * 4);
    }
    for (int blk = 0; blk < nb; blk++) {
        const uint8_t *b0 = g0 + stride * (size_t)blk, *b1 = g1 + stride * (size_t)blk;
        __m512i a[4][2];
        for (int i = 0; i < MR; i++) a[i][0] = a[i][1] = _mm512_setzero_si512();
        const int32_t *xo[4];
        for (int i = 0; i < MR; i++) xo[i] = xs[i] + B / 2 * blk;
        for (int t = 0; t < B / 2; t++) {
            __m512i w0 = _mm512_loadu_si512((const void *)(b0 + 64 * t));
            __m512i w1 = _mm512_loadu_si512((const void *)(b1 + 64 * t));
            for (int i = 0; i < MR; i++) {
                __m512i xb = _mm512_set1_epi32(xo[i][t]);
                a[i][0] = _mm512_dpwssd_epi32(a[i][0], w0, xb);
                a[i][1] = _mm512_dpwssd_epi32(a[i][1], w1, xb);
            }
        }
        __m512 dw0 = _mm512_loadu_ps((const float *)(b0 + (size_t)B * 32));
        __m512 dw1 = _mm512_loadu_ps((const float *)(b1 + (size_t)B * 32));
        for (int i = 0; i < MR; i++) {
            __m512 d = _mm512_set1_ps(dx[i][blk]);
            f[i][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[i][0]), _mm512_mul_ps(dw0, d), f[i][0]);
            f[i][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[i][1]), _mm512_mul_ps(dw1, d), f[i][1]);
        }
        if (mn) {
            const uint8_t *m0p = b0 + (size_t)B * 32 + 128, *m1p = b1 + (size_t)B * 32 + 128;
            for (int i = 0; i < MR; i++) a[i][0] = a[i][1] = _mm512_setzero_si512();
            for (int p = 0; p < B / 32; p++) {
                __m512i m0 = _mm512_loadu_si512((const void *)(m0p + 64 * p));
                __m512i m1 = _mm512_loadu_si512((const void *)(m1p + 64 * p));
                for (int i = 0; i < MR; i++) {
                    __m512i sb = _mm512_set1_epi32(bs[i][B / 32 * blk + p]);
                    a[i][0] = _mm512_dpwssd_epi32(a[i][0], m0, sb);
                    a[i][1] = _mm512_dpwssd_epi32(a[i][1], m1, sb);
                }
            }
            __m512 dm0 = _mm512_loadu_ps((const float *)(b0 + (size_t)B * 32 + 64));
            __m512 dm1 = _mm512_loadu_ps((const float *)(b1 + (size_t)B * 32 + 64));
            for (int i = 0; i < MR; i++) {
                __m512 d = _mm512_set1_ps(dx[i][blk]);
                f[i][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[i][0]), _mm512_mul_ps(dm0, d), f[i][0]);
                f[i][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[i][1]), _mm512_mul_ps(dm1, d), f[i][1]);
            }
        }
    }
    __mmask16 k0 = (__mmask16)((1u << lanes0) - 1), k1 = (__mmask16)((1u << lanes1) - 1);
    for (int i = 0; i < MR; i++) {
        _mm512_mask_storeu_ps(y + ldy * (size_t)i, k0, f[i][0]);
        _mm512_mask_storeu_ps(y + ldy * (size_t)i + 16, k1, f[i][1]);
    }
}

#define Z_TILES(name, B, MN) \
    AVX512 static void name(int type, const uint8_t *g0, const uint8_t *g1, size_t stride, int nb, const uint8_t *xp, size_t xr, \
                            int k, int mr, int lanes0, int lanes1, float *y, size_t ldy) { \
        (void)type; \
        switch (mr) { \
        case 4: z_tile(B, MN, 4, g0, g1, stride, nb, xp, xr, k, lanes0, lanes1, y, ldy); break; \
        case 3: z_tile(B, MN, 3, g0, g1, stride, nb, xp, xr, k, lanes0, lanes1, y, ldy); break; \
        case 2: z_tile(B, MN, 2, g0, g1, stride, nb, xp, xr, k, lanes0, lanes1, y, ldy); break; \
        default: z_tile(B, MN, 1, g0, g1, stride, nb, xp, xr, k, lanes0, lanes1, y, ldy); break; \
        } \
    }
Z_TILES(z_tiles_q4k, 256, 1)
Z_TILES(z_tiles_k, 256, 0)
Z_TILES(z_tiles_32, 32, 0)
Z_TILES(z_tiles_32m, 32, 1)
#endif

// MARK: - Driver

typedef void (*tiles_fn)(int type, const uint8_t *g0, const uint8_t *g1, size_t stride, int nb, const uint8_t *xp, size_t xr,
                         int k, int mr, int lanes0, int lanes1, float *y, size_t ldy);

/// The portable path over the same pair of groups.
static void p_tiles(int type, const uint8_t *g0, const uint8_t *g1, size_t stride, int nb, const uint8_t *xp, size_t xr,
                    int k, int mr, int lanes0, int lanes1, float *y, size_t ldy) {
    (void)stride;
    p_group(type, g0, nb, xp, xr, k, mr, lanes0, y, ldy);
    if (lanes1) p_group(type, g1, nb, xp, xr, k, mr, lanes1, y + 16, ldy);
}

void prune_q8_gemm_panel(int path, int type, const void *panel, int rows, int k, const void *xp, int m,
                         float *y, size_t ldy) {
    if (rows <= 0 || m <= 0 || !prune_q8_panel_bytes(type, rows, k)) return;
    int B = block_of(type), nb = k / B;
    size_t stride = block_stride(type), gbytes = stride * (size_t)nb, xr = prune_q8_xpanel_row_bytes(type, k);
    int mr_max = 1;
    tiles_fn f = NULL;
#if PRUNE_X86
    if (path == PRUNE_Q8PATH_AVX512) {
        f = type == PRUNE_KT_Q4_K ? z_tiles_q4k : is_k(type) ? z_tiles_k : has_min(type) ? z_tiles_32m : z_tiles_32;
        mr_max = 4;
    } else if (path == PRUNE_KPATH_AVX2) {
        f = type == PRUNE_KT_Q4_K ? v_tiles_q4k : is_k(type) ? v_tiles_k : has_min(type) ? v_tiles_32m : v_tiles_32;
        mr_max = 3;
    }
#else
    (void)path;
#endif
    if (!f) { f = p_tiles; mr_max = 4; }
    // Activation rows in chunks that stay in the L2 cache with the panel, each chunk past every
    // pair of groups. Every output is computed whole by one call, so the order changes no bits.
    int chunk = (int)((256u << 10) / xr);
    chunk = chunk < mr_max ? mr_max : chunk > 64 ? 64 : chunk / mr_max * mr_max;
    const uint8_t *pb = (const uint8_t *)panel, *xb = (const uint8_t *)xp;
    for (int i0 = 0; i0 < m; i0 += chunk) {
        int i1 = i0 + chunk < m ? i0 + chunk : m;
        for (int g = 0; 32 * g < rows; g++) {
            int r0 = 32 * g, left = rows - r0;
            int lanes0 = left < 16 ? left : 16, lanes1 = left - 16 <= 0 ? 0 : left - 16 < 16 ? left - 16 : 16;
            const uint8_t *g0 = pb + gbytes * (size_t)(2 * g), *g1 = g0 + gbytes;
            for (int i = i0; i < i1; i += mr_max) {
                int mr = i1 - i < mr_max ? i1 - i : mr_max;
                f(type, g0, g1, stride, nb, xb + xr * (size_t)i, xr, k, mr, lanes0, lanes1, y + ldy * (size_t)i + r0, ldy);
            }
        }
    }
}
