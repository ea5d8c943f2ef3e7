// Integer kernels on 8-bit activations (see prune_q8.h for the scheme and the summation order).
//
// Both paths share the quantizer and do the same float operations (`lanes_add`, `reduce8`) on the
// same exact integer lanes; they differ only in how they compute those integers.
#include "prune_q8.h"
#include "prune_cpu.h"
#include "prune_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#define PRUNE_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "scalar.h"

enum { KBLOCK = 256, KBLOCK_BYTES = 4 + 256 + 32, SBLOCK = 32, SBLOCK_BYTES = 4 + 32 };
/// Activation rows handled together against one weight row (its unpacked blocks are reused).
enum { NR = 8 };

static int is_k(int type) { return type == PRUNE_KT_Q4_K || type == PRUNE_KT_Q6_K; }

int prune_q8_supports(int type) {
    return type == PRUNE_KT_Q4_K || type == PRUNE_KT_Q6_K || type == PRUNE_KT_Q8_0 || type == PRUNE_KT_Q5_0 ||
           type == PRUNE_KT_Q4_0 || type == PRUNE_KT_Q4_1 || type == PRUNE_KT_Q5_1;
}
int prune_q8_block_size(int type) { return prune_q8_supports(type) ? (is_k(type) ? KBLOCK : SBLOCK) : 0; }
size_t prune_q8_row_bytes(int type, int k) {
    return is_k(type) ? (size_t)(k / KBLOCK) * KBLOCK_BYTES : (size_t)(k / SBLOCK) * SBLOCK_BYTES;
}

// MARK: - Activations

static inline float xd_of(const uint8_t *blk) { float d; memcpy(&d, blk, 4); return d; }
static inline int16_t s16_of(const uint8_t *blk, int g) {
    int16_t s; memcpy(&s, blk + 4 + KBLOCK + 2 * g, 2); return s;
}

/// One block of n values: d, then q (see prune_q8.h).
static void quantize_block(const float *x, int n, uint8_t *blk) {
    float amax = 0;
    for (int c = 0; c < n; c++) { float a = fabsf(x[c]); if (a > amax) amax = a; }
    float d = amax / 127.0f, id = amax != 0 ? 127.0f / amax : 0.0f;
    memcpy(blk, &d, 4);
    int8_t *q = (int8_t *)(blk + 4);
    for (int c = 0; c < n; c++) {
        float v = rintf(x[c] * id);
        v = v > 127.0f ? 127.0f : v;
        v = v >= -127.0f ? v : -127.0f;   // also NaN
        q[c] = (int8_t)v;
    }
}

#if PRUNE_X86
/// `quantize_block` on AVX2, the same bits: max |x| ignores NaN as the scalar loop does (max_ps
/// returns its second operand on NaN), x · id rounds to nearest even, and the clamp sends NaN to −127.
__attribute__((target("avx2,fma,f16c"))) static void v_quantize_block(const float *x, int n, uint8_t *blk) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps();
    for (int c = 0; c < n; c += 8) mx = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + c), abs_mask), mx);
    float lanes[8], amax = 0;
    _mm256_storeu_ps(lanes, mx);
    for (int l = 0; l < 8; l++) if (lanes[l] > amax) amax = lanes[l];
    float d = amax / 127.0f, id = amax != 0 ? 127.0f / amax : 0.0f;
    memcpy(blk, &d, 4);
    const __m256 vid = _mm256_set1_ps(id), hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    int8_t *q = (int8_t *)(blk + 4);
    for (int c = 0; c < n; c += 32) {
        __m256i v[4];
        for (int u = 0; u < 4; u++) {
            __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + c + 8 * u), vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            r = _mm256_max_ps(_mm256_min_ps(hi, r), lo);
            v[u] = _mm256_cvtps_epi32(r);
        }
        // packs interleave 128-bit lanes: 0 1 4 5 2 3 6 7 (dwords of 4 bytes), put back in order.
        __m256i p16a = _mm256_packs_epi32(v[0], v[1]), p16b = _mm256_packs_epi32(v[2], v[3]);
        __m256i p8 = _mm256_packs_epi16(p16a, p16b);
        p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + c), p8);
    }
}
#endif

void prune_q8_quantize(int path, int type, const float *x, size_t ldx, int m, int k, void *xq) {
    size_t rb = prune_q8_row_bytes(type, k);
    int bs = prune_q8_block_size(type), bb = is_k(type) ? KBLOCK_BYTES : SBLOCK_BYTES;
#if PRUNE_X86
    int simd = path != PRUNE_KPATH_PORTABLE;
#else
    (void)path;
#endif
    for (int i = 0; i < m; i++) {
        const float *xi = x + ldx * (size_t)i;
        uint8_t *row = (uint8_t *)xq + rb * (size_t)i;
        for (int b = 0; b < k / bs; b++) {
            uint8_t *blk = row + (size_t)bb * b;
#if PRUNE_X86
            if (simd) v_quantize_block(xi + (size_t)bs * b, bs, blk);
            else
#endif
                quantize_block(xi + (size_t)bs * b, bs, blk);
            if (is_k(type)) {
                const int8_t *q = (const int8_t *)(blk + 4);
                for (int g = 0; g < 16; g++) {
                    int s = 0;
                    for (int c = 0; c < 16; c++) s += q[16 * g + c];
                    int16_t s16 = (int16_t)s;
                    memcpy(blk + 4 + KBLOCK + 2 * g, &s16, 2);
                }
            }
        }
    }
}

// MARK: - Float parts (shared)

/// acc[l] += dd · lane[l], one rounding each.
static inline void lanes_add(float *acc, float dd, const int32_t *lane) {
    for (int l = 0; l < 8; l++) acc[l] = fmaf(dd, (float)lane[l], acc[l]);
}
/// The 8 lanes in a fixed tree.
static inline float reduce8(const float *a) {
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

// MARK: - Portable path

/// Q4_K super-block b × activation block xb: the 8 integer lanes.
static void p_q4k(const uint8_t *b, const int8_t *q, int32_t *lane) {
    for (int l = 0; l < 8; l++) lane[l] = 0;
    for (int j = 0; j < 8; j++) {
        uint8_t sc, mn;
        kscale(j, b + 4, &sc, &mn);
        const uint8_t *qs = b + 16 + 32 * (j >> 1);
        int shift = 4 * (j & 1);
        for (int l = 0; l < 8; l++) {
            int32_t s = 0;
            for (int t = 0; t < 4; t++) s += ((qs[4 * l + t] >> shift) & 15) * q[32 * j + 4 * l + t];
            lane[l] += sc * s;
        }
    }
}
/// Q6_K, without the offset (stored values 0..63).
static void p_q6k(const uint8_t *b, const int8_t *q, int32_t *lane) {
    const int8_t *sc = (const int8_t *)(b + 192);
    for (int l = 0; l < 8; l++) lane[l] = 0;
    for (int g = 0; g < 8; g++) {
        int half = g >> 2, sub = g & 3;
        const uint8_t *ql = b + 64 * half + 32 * (sub & 1), *qh = b + 128 + 32 * half;
        int nshift = sub >= 2 ? 4 : 0, hshift = 2 * sub;
        for (int l = 0; l < 8; l++) {
            int32_t s = 0;
            for (int t = 0; t < 4; t++) {
                int c = 4 * l + t;
                int v = ((ql[c] >> nshift) & 15) | (((qh[c] >> hshift) & 3) << 4);
                s += v * q[32 * g + c];
            }
            lane[l] += sc[8 * half + 2 * sub + (l >> 2)] * s;
        }
    }
}

/// out[t] = row · xq[t] for t < n (activation rows xs bytes apart).
static void p_rows(int type, const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) {
    for (int t = 0; t < n; t++) {
        const uint8_t *x = xq + xs * (size_t)t;
        // acc2: Q4_K's mins; the odd blocks of the 32-value types.
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, acc2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int32_t lane[8], mlane[8];
        if (is_k(type)) {
            for (int sb = 0; sb < k / KBLOCK; sb++) {
                const uint8_t *xb = x + (size_t)KBLOCK_BYTES * sb;
                float xd = xd_of(xb);
                if (type == PRUNE_KT_Q4_K) {
                    const uint8_t *b = row + 144 * (size_t)sb;
                    p_q4k(b, (const int8_t *)(xb + 4), lane);
                    lanes_add(acc, half_to_float(load16(b)) * xd, lane);
                    // The mins: lane j takes mn_j · (s[2j] + s[2j+1]).
                    for (int j = 0; j < 8; j++) {
                        uint8_t sc, mn;
                        kscale(j, b + 4, &sc, &mn);
                        mlane[j] = (int32_t)mn * ((int32_t)s16_of(xb, 2 * j) + s16_of(xb, 2 * j + 1));
                    }
                    lanes_add(acc2, half_to_float(load16(b + 2)) * xd, mlane);
                } else {
                    const uint8_t *b = row + 210 * (size_t)sb;
                    p_q6k(b, (const int8_t *)(xb + 4), lane);
                    // The offset of the stored values (q − 32): lane l less 32 · (sc·s)[2l, 2l+1].
                    const int8_t *sc = (const int8_t *)(b + 192);
                    for (int l = 0; l < 8; l++)
                        lane[l] -= 32 * ((int32_t)sc[2 * l] * s16_of(xb, 2 * l) + (int32_t)sc[2 * l + 1] * s16_of(xb, 2 * l + 1));
                    lanes_add(acc, half_to_float(load16(b + 208)) * xd, lane);
                }
            }
        } else {
            int bb = q32_block_bytes(type);
            int8_t v[32];
            uint8_t u[32];
            for (int blk = 0; blk < k / SBLOCK; blk++) {
                const uint8_t *xb = x + (size_t)SBLOCK_BYTES * blk;
                const int8_t *q = (const int8_t *)(xb + 4);
                float *a = blk & 1 ? acc2 : acc;
                if (q32_has_min(type)) {
                    // The stored values, then the min with the lane sums of the activations.
                    float wm, wd = q32m_unpack(type, row + (size_t)bb * blk, u, &wm);
                    for (int l = 0; l < 8; l++) {
                        int32_t s = 0, xs = 0;
                        for (int c = 0; c < 4; c++) { s += u[4 * l + c] * q[4 * l + c]; xs += q[4 * l + c]; }
                        lane[l] = s;
                        mlane[l] = xs;
                    }
                    lanes_add(a, wd * xd_of(xb), lane);
                    lanes_add(a, wm * xd_of(xb), mlane);
                    continue;
                }
                float wd = q32_unpack(type, row + (size_t)bb * blk, v);
                for (int l = 0; l < 8; l++) {
                    int32_t s = 0;
                    for (int c = 0; c < 4; c++) s += v[4 * l + c] * q[4 * l + c];
                    lane[l] = s;
                }
                lanes_add(a, wd * xd_of(xb), lane);
            }
        }
        out[t] = is_k(type) ? reduce8(acc) - reduce8(acc2) : reduce8(acc) + reduce8(acc2);
    }
}

// MARK: - AVX2 path

#if PRUNE_X86
#define AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) static inline
#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2_INLINE float h2f(const uint8_t *p) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(load16(p)))); }

/// The 8 scales and 8 mins of a Q4_K super-block (q: its 12 bytes), as `kscale` gives them.
AVX2_INLINE void kscales8(const uint8_t *q, uint8_t *sc, uint8_t *mn) {
    uint32_t u[3], a[4];
    memcpy(u, q, 12);
    a[0] = u[0] & 0x3f3f3f3fu;                                                // sc 0..3
    a[1] = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);        // sc 4..7
    a[2] = u[1] & 0x3f3f3f3fu;                                                // mn 0..3
    a[3] = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4); // mn 4..7
    memcpy(sc, a, 8);
    memcpy(mn, a + 2, 8);
}

/// acc += dd · lanes, as `lanes_add` (fmaf per lane).
AVX2_INLINE __m256 v_lanes_add(__m256 acc, float dd, __m256i lanes) {
    return _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(lanes), acc);
}

AVX2_INLINE void v_rows_q4k(const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) {
    __m256 acc[NR], macc[NR];
    for (int t = 0; t < n; t++) { acc[t] = _mm256_setzero_ps(); macc[t] = _mm256_setzero_ps(); }
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int sb = 0; sb < k / KBLOCK; sb++) {
        const uint8_t *b = row + 144 * (size_t)sb;
        const uint8_t *xb0 = xq + (size_t)KBLOCK_BYTES * sb;
        uint8_t sc[8], mn[8];
        kscales8(b + 4, sc, mn);
        // mn_j twice (int16), for the pairs s[2j], s[2j+1]
        __m128i mn8 = _mm_loadl_epi64((const __m128i *)mn);
        __m256i mn16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8));
        __m256i isum[NR];
        for (int t = 0; t < n; t++) isum[t] = _mm256_setzero_si256();
        for (int p = 0; p < 4; p++) {
            __m256i raw = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * p));
            __m256i lo = _mm256_and_si256(raw, m4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
            __m256i slo = _mm256_set1_epi16(sc[2 * p]), shi = _mm256_set1_epi16(sc[2 * p + 1]);
            for (int t = 0; t < n; t++) {
                const uint8_t *q = xb0 + xs * (size_t)t + 4 + 64 * p;
                __m256i x0 = _mm256_loadu_si256((const __m256i *)q), x1 = _mm256_loadu_si256((const __m256i *)(q + 32));
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x0), slo));
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x1), shi));
            }
        }
        float wd = h2f(b), wm = h2f(b + 2);
        for (int t = 0; t < n; t++) {
            const uint8_t *xb = xb0 + xs * (size_t)t;
            float xd = xd_of(xb);
            acc[t] = v_lanes_add(acc[t], wd * xd, isum[t]);
            __m256i s16 = _mm256_loadu_si256((const __m256i *)(xb + 4 + KBLOCK));
            macc[t] = v_lanes_add(macc[t], wm * xd, _mm256_madd_epi16(s16, mn16));
        }
    }
    for (int t = 0; t < n; t++) {
        float a[8], mm[8];
        _mm256_storeu_ps(a, acc[t]);
        _mm256_storeu_ps(mm, macc[t]);
        out[t] = reduce8(a) - reduce8(mm);
    }
}

AVX2_INLINE void v_rows_q6k(const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) {
    __m256 acc[NR];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    for (int sb = 0; sb < k / KBLOCK; sb++) {
        const uint8_t *b = row + 210 * (size_t)sb;
        const uint8_t *xb0 = xq + (size_t)KBLOCK_BYTES * sb;
        const int8_t *sc = (const int8_t *)(b + 192);
        __m256i isum[NR];
        for (int t = 0; t < n; t++) isum[t] = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * half));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * half + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * half));
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
            for (int sub = 0; sub < 4; sub++) {
                int s0 = 8 * half + 2 * sub;
                __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[s0 + 1]), _mm_set1_epi16(sc[s0]));
                int g = 4 * half + sub;
                for (int t = 0; t < n; t++) {
                    __m256i x = _mm256_loadu_si256((const __m256i *)(xb0 + xs * (size_t)t + 4 + 32 * g));
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(v[sub], x), s));
                }
            }
        }
        float wd = h2f(b + 208);
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        for (int t = 0; t < n; t++) {
            const uint8_t *xb = xb0 + xs * (size_t)t;
            __m256i s16 = _mm256_loadu_si256((const __m256i *)(xb + 4 + KBLOCK));
            __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(s16, sc16), 5);
            acc[t] = v_lanes_add(acc[t], wd * xd_of(xb), _mm256_sub_epi32(isum[t], off));
        }
    }
    for (int t = 0; t < n; t++) {
        float a[8];
        _mm256_storeu_ps(a, acc[t]);
        out[t] = reduce8(a);
    }
}

/// fl(d_w · d_x) in all 8 lanes: the same product as the scalar one.
AVX2_INLINE __m256 v_dd(const uint8_t *wb, const uint8_t *xb) {
    return _mm256_mul_ps(_mm256_cvtph_ps(_mm_set1_epi16((short)load16(wb))), _mm256_broadcast_ss((const float *)xb));
}

/// A 32-value block's stored values as unsigned bytes: Q8_0 q + 128 (q ^ 0x80), Q4_0 its nibbles,
/// Q5_0 its five bits, the signed value being this less `q32_offset`; Q4_1 and Q5_1 their stored
/// values (the value is d·u + m).
AVX2_INLINE __m256i v_stored32(int type, const uint8_t *b) {
    if (type == PRUNE_KT_Q8_0)
        return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(b + 2)), _mm256_set1_epi8((char)0x80));
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    if (type == PRUNE_KT_Q4_0 || type == PRUNE_KT_Q4_1) {
        __m128i q = _mm_loadu_si128((const __m128i *)(b + (type == PRUNE_KT_Q4_0 ? 2 : 4)));
        return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), m4);
    }
    // Q5_0 (qh at 2) and Q5_1 (qh at 4): bit c of qh is the fifth bit of value c.
    int h5 = type == PRUNE_KT_Q5_0 ? 2 : 4;
    __m128i q = _mm_loadu_si128((const __m128i *)(b + h5 + 4));
    __m256i v = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), m4);
    __m256i qh = _mm256_set1_epi32((int)load32(b + h5));
    qh = _mm256_shuffle_epi8(qh, _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                  2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bits = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_or_si256(v, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bits), bits), _mm256_set1_epi8(16)));
}
/// What `v_stored32` adds to the signed values of Q8_0, Q4_0 and Q5_0.
static inline int q32_offset(int type) { return type == PRUNE_KT_Q8_0 ? 128 : type == PRUNE_KT_Q4_0 ? 8 : 16; }
/// A 32-value block's signed values (as `q32_unpack`).
AVX2_INLINE __m256i v_unpack32(int type, const uint8_t *b) {
    if (type == PRUNE_KT_Q8_0) return _mm256_loadu_si256((const __m256i *)(b + 2));
    return _mm256_sub_epi8(v_stored32(type, b), _mm256_set1_epi8((char)q32_offset(type)));
}

/// One 32-value block of a weight row times activation block xb: its 8 exact integer lanes.
AVX2_INLINE __m256i v_lanes32(__m256i w, __m256i aw, const uint8_t *xb) {
    __m256i x = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(xb + 4)), w);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, x), _mm256_set1_epi16(1));
}
/// The same for unsigned stored values u (at most 31, so maddubs cannot saturate).
AVX2_INLINE __m256i v_lanes32u(__m256i u, const uint8_t *xb) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_loadu_si256((const __m256i *)(xb + 4))), _mm256_set1_epi16(1));
}
/// The lane sums of activation block xb (4 values each).
AVX2_INLINE __m256i v_sums32(const uint8_t *xb) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)(xb + 4))),
                             _mm256_set1_epi16(1));
}
/// fl(m_w · d_x) in all 8 lanes (Q4_1, Q5_1: the min at b + 2).
AVX2_INLINE __m256 v_md(const uint8_t *wb, const uint8_t *xb) { return v_dd(wb + 2, xb); }

/// One block into 8 f32 lanes: acc + fl(d_w·d_x)·lanes (one fma each), and for the types with a min
/// then + fl(m_w·d_x)·sums. w, aw: the signed values and their magnitudes; u: the stored values.
AVX2_INLINE __m256 v_block32(int type, const uint8_t *b, __m256i w, __m256i aw, __m256i u, const uint8_t *xb, __m256 acc) {
    if (q32_has_min(type)) {
        acc = _mm256_fmadd_ps(v_dd(b, xb), _mm256_cvtepi32_ps(v_lanes32u(u, xb)), acc);
        return _mm256_fmadd_ps(v_md(b, xb), _mm256_cvtepi32_ps(v_sums32(xb)), acc);
    }
    return _mm256_fmadd_ps(v_dd(b, xb), _mm256_cvtepi32_ps(v_lanes32(w, aw, xb)), acc);
}
/// A block's weight side for `v_block32`.
AVX2_INLINE void v_weights32(int type, const uint8_t *b, __m256i *w, __m256i *aw, __m256i *u) {
    if (q32_has_min(type)) { *u = v_stored32(type, b); *w = *aw = _mm256_setzero_si256(); return; }
    *w = v_unpack32(type, b);
    *aw = _mm256_sign_epi8(*w, *w);
    *u = _mm256_setzero_si256();
}

/// Blocks in pairs (the even one into acc0, the odd one into acc1), so both accumulators stay in
/// registers.
AVX2_INLINE void v_rows_32(int type, const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) {
    __m256 acc0[NR], acc1[NR];
    for (int t = 0; t < n; t++) acc0[t] = acc1[t] = _mm256_setzero_ps();
    int bb = q32_block_bytes(type), nb = k / SBLOCK, blk = 0;
    for (; blk + 1 < nb; blk += 2) {
        const uint8_t *b0 = row + (size_t)bb * blk, *b1 = b0 + bb;
        __m256i w0, aw0, u0, w1, aw1, u1;
        v_weights32(type, b0, &w0, &aw0, &u0);
        v_weights32(type, b1, &w1, &aw1, &u1);
        for (int t = 0; t < n; t++) {
            const uint8_t *x0 = xq + xs * (size_t)t + (size_t)SBLOCK_BYTES * blk, *x1 = x0 + SBLOCK_BYTES;
            acc0[t] = v_block32(type, b0, w0, aw0, u0, x0, acc0[t]);
            acc1[t] = v_block32(type, b1, w1, aw1, u1, x1, acc1[t]);
        }
    }
    if (blk < nb) {   // a last even block
        const uint8_t *b0 = row + (size_t)bb * blk;
        __m256i w0, aw0, u0;
        v_weights32(type, b0, &w0, &aw0, &u0);
        for (int t = 0; t < n; t++)
            acc0[t] = v_block32(type, b0, w0, aw0, u0, xq + xs * (size_t)t + (size_t)SBLOCK_BYTES * blk, acc0[t]);
    }
    for (int t = 0; t < n; t++) {
        float a[8], a2[8];
        _mm256_storeu_ps(a, acc0[t]);
        _mm256_storeu_ps(a2, acc1[t]);
        out[t] = reduce8(a) + reduce8(a2);
    }
}

// AVX-512 with VNNI: the same integer lanes, two 32-value groups per zmm register (lanes 0–7 the
// first group, 8–15 the second, added together before the float part), maddubs then vpdpwssd.
#define AVX512_INLINE __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"), always_inline)) static inline
#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

AVX512_INLINE __m512i z_pair(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
AVX512_INLINE __m256i z_fold(__m512i v) { return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)); }

AVX512_INLINE void z_rows_q4k(const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) {
    __m256 acc[NR], macc[NR];
    for (int t = 0; t < n; t++) { acc[t] = _mm256_setzero_ps(); macc[t] = _mm256_setzero_ps(); }
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int sb = 0; sb < k / KBLOCK; sb++) {
        const uint8_t *b = row + 144 * (size_t)sb;
        const uint8_t *xb0 = xq + (size_t)KBLOCK_BYTES * sb;
        uint8_t sc[8], mn[8];
        kscales8(b + 4, sc, mn);
        __m128i mn8 = _mm_loadl_epi64((const __m128i *)mn);
        __m256i mn16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8));
        __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)sc)));
        // Two chains of vpdpwssd (pairs 0, 2 and 1, 3), added at the end: the integer sum is exact
        // in any order, and the shorter dependency chain lets blocks overlap.
        __m512i isum[NR], isum2[NR];
        for (int t = 0; t < n; t++) isum[t] = isum2[t] = _mm512_setzero_si512();
        for (int p = 0; p < 4; p++) {
            __m256i raw = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * p));
            __m512i w = z_pair(_mm256_and_si256(raw, m4), _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4));
            // sc[2p] in the low 16 words, sc[2p + 1] in the high 16
            __m512i s = _mm512_permutexvar_epi16(_mm512_set1_epi16((short)(2 * p)), sc16);
            s = _mm512_mask_permutexvar_epi16(s, 0xffff0000u, _mm512_set1_epi16((short)(2 * p + 1)), sc16);
            for (int t = 0; t < n; t++) {
                __m512i x = _mm512_loadu_si512((const void *)(xb0 + xs * (size_t)t + 4 + 64 * p));
                if (p & 1) isum2[t] = _mm512_dpwssd_epi32(isum2[t], _mm512_maddubs_epi16(w, x), s);
                else isum[t] = _mm512_dpwssd_epi32(isum[t], _mm512_maddubs_epi16(w, x), s);
            }
        }
        for (int t = 0; t < n; t++) isum[t] = _mm512_add_epi32(isum[t], isum2[t]);
        float wd = h2f(b), wm = h2f(b + 2);
        for (int t = 0; t < n; t++) {
            const uint8_t *xb = xb0 + xs * (size_t)t;
            float xd = xd_of(xb);
            acc[t] = v_lanes_add(acc[t], wd * xd, z_fold(isum[t]));
            __m256i s16 = _mm256_loadu_si256((const __m256i *)(xb + 4 + KBLOCK));
            macc[t] = v_lanes_add(macc[t], wm * xd, _mm256_madd_epi16(s16, mn16));
        }
    }
    for (int t = 0; t < n; t++) {
        float a[8], mm[8];
        _mm256_storeu_ps(a, acc[t]);
        _mm256_storeu_ps(mm, macc[t]);
        out[t] = reduce8(a) - reduce8(mm);
    }
}

AVX512_INLINE void z_rows_q6k(const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) {
    __m256 acc[NR];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    // bytes 0 ×8, 1 ×8 | 2 ×8, 3 ×8: four scales, each over 8 int16 lanes
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    for (int sb = 0; sb < k / KBLOCK; sb++) {
        const uint8_t *b = row + 210 * (size_t)sb;
        const uint8_t *xb0 = xq + (size_t)KBLOCK_BYTES * sb;
        const int8_t *sc = (const int8_t *)(b + 192);
        __m512i isum[NR];
        for (int t = 0; t < n; t++) isum[t] = _mm512_setzero_si512();
        for (int half = 0; half < 2; half++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * half));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * half + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * half));
            __m256i v0 = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
            __m256i v1 = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
            __m256i v2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
            __m256i v3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
            __m512i w[2] = {z_pair(v0, v1), z_pair(v2, v3)};
            __m512i s[2];
            for (int h = 0; h < 2; h++) {
                __m256i four = _mm256_set1_epi32((int)load32((const uint8_t *)sc + 8 * half + 4 * h));
                s[h] = _mm512_cvtepi8_epi16(_mm256_shuffle_epi8(four, spread));
            }
            for (int h = 0; h < 2; h++) {
                for (int t = 0; t < n; t++) {
                    __m512i x = _mm512_loadu_si512((const void *)(xb0 + xs * (size_t)t + 4 + 128 * half + 64 * h));
                    isum[t] = _mm512_dpwssd_epi32(isum[t], _mm512_maddubs_epi16(w[h], x), s[h]);
                }
            }
        }
        float wd = h2f(b + 208);
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        for (int t = 0; t < n; t++) {
            const uint8_t *xb = xb0 + xs * (size_t)t;
            __m256i s16 = _mm256_loadu_si256((const __m256i *)(xb + 4 + KBLOCK));
            __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(s16, sc16), 5);
            acc[t] = v_lanes_add(acc[t], wd * xd_of(xb), _mm256_sub_epi32(z_fold(isum[t]), off));
        }
    }
    for (int t = 0; t < n; t++) {
        float a[8];
        _mm256_storeu_ps(a, acc[t]);
        out[t] = reduce8(a);
    }
}

/// The 32-value types, blocks in pairs: the even block in lanes 0–7, the odd one in 8–15. The exact
/// lanes come from vpdpbusd on the unsigned stored values u: Σ (u − o)·x with the accumulator
/// starting at −o·Σ x (another vpdpbusd, on o), or for the types with a min Σ u·x, then the min's
/// step with the lane sums Σ x (vpdpbusd on ones). The scales fl(d_w · d_x), fl(m_w · d_x) are
/// multiplied in vectors (the same products as the scalar ones).
AVX512_INLINE void z_rows_32(int type, const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) {
    __m512 acc[NR];
    for (int t = 0; t < n; t++) acc[t] = _mm512_setzero_ps();
    int bb = q32_block_bytes(type), nb = k / SBLOCK, blk = 0, mn = q32_has_min(type);
    const __m512i o8 = _mm512_set1_epi8((char)(mn ? 1 : q32_offset(type)));
    for (; blk + 1 < nb; blk += 2) {
        const uint8_t *b0 = row + (size_t)bb * blk, *b1 = b0 + bb;
        __m512i u = z_pair(v_stored32(type, b0), v_stored32(type, b1));
        __m512 wd = _mm512_cvtph_ps(_mm256_set_m128i(_mm_set1_epi16((short)load16(b1)), _mm_set1_epi16((short)load16(b0))));
        __m512 wm = _mm512_setzero_ps();
        if (mn) wm = _mm512_cvtph_ps(_mm256_set_m128i(_mm_set1_epi16((short)load16(b1 + 2)), _mm_set1_epi16((short)load16(b0 + 2))));
        for (int t = 0; t < n; t++) {
            const uint8_t *x0 = xq + xs * (size_t)t + (size_t)SBLOCK_BYTES * blk, *x1 = x0 + SBLOCK_BYTES;
            __m512i x = z_pair(_mm256_loadu_si256((const __m256i *)(x0 + 4)), _mm256_loadu_si256((const __m256i *)(x1 + 4)));
            __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), o8, x);
            __m512 xd = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_broadcast_ss((const float *)x0)),
                                           _mm256_broadcast_ss((const float *)x1), 1);
            if (mn) {
                __m512i lanes = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, x);
                acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(wd, xd), _mm512_cvtepi32_ps(lanes), acc[t]);
                acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(wm, xd), _mm512_cvtepi32_ps(sums), acc[t]);
            } else {
                __m512i lanes = _mm512_dpbusd_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), sums), u, x);
                acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(wd, xd), _mm512_cvtepi32_ps(lanes), acc[t]);
            }
        }
    }
    if (blk < nb) {   // a last even block: lanes 0–7
        const uint8_t *b = row + (size_t)bb * blk;
        __m256i w, aw, u;
        v_weights32(type, b, &w, &aw, &u);
        for (int t = 0; t < n; t++) {
            const uint8_t *xb = xq + xs * (size_t)t + (size_t)SBLOCK_BYTES * blk;
            acc[t] = _mm512_insertf32x8(acc[t], v_block32(type, b, w, aw, u, xb, _mm512_castps512_ps256(acc[t])), 0);
        }
    }
    for (int t = 0; t < n; t++) {
        float a[16];
        _mm512_storeu_ps(a, acc[t]);
        out[t] = reduce8(a) + reduce8(a + 8);
    }
}

int prune_q8_avx512_usable(void) {
    if (!prune_kernels_avx2_usable() || !prune_cpu_avx512_usable() || __get_cpuid_max(0, 0) < 7) return 0;
    unsigned int a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    return (c & (1u << 11)) != 0;   // AVX512_VNNI
}

/// The row kernels, specialised for each count of activation rows.
#define V_ROWS(name, call) \
    AVX2 static void name(int type, const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) { \
        (void)type; \
        switch (n) { \
        case 8: call(row, k, xq, xs, 8, out); break; \
        case 7: call(row, k, xq, xs, 7, out); break; \
        case 6: call(row, k, xq, xs, 6, out); break; \
        case 5: call(row, k, xq, xs, 5, out); break; \
        case 4: call(row, k, xq, xs, 4, out); break; \
        case 3: call(row, k, xq, xs, 3, out); break; \
        case 2: call(row, k, xq, xs, 2, out); break; \
        default: call(row, k, xq, xs, 1, out); break; \
        } \
    }
V_ROWS(v_q4k, v_rows_q4k)
V_ROWS(v_q6k, v_rows_q6k)
#undef AVX2
#define AVX2 AVX512
V_ROWS(z_q4k, z_rows_q4k)
V_ROWS(z_q6k, z_rows_q6k)
#undef AVX2
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define V_ROWS32(name, T) \
    AVX2 static void name(int type, const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out) { \
        (void)type; \
        switch (n) { \
        case 8: v_rows_32(T, row, k, xq, xs, 8, out); break; \
        case 7: v_rows_32(T, row, k, xq, xs, 7, out); break; \
        case 6: v_rows_32(T, row, k, xq, xs, 6, out); break; \
        case 5: v_rows_32(T, row, k, xq, xs, 5, out); break; \
        case 4: v_rows_32(T, row, k, xq, xs, 4, out); break; \
        case 3: v_rows_32(T, row, k, xq, xs, 3, out); break; \
        case 2: v_rows_32(T, row, k, xq, xs, 2, out); break; \
        default: v_rows_32(T, row, k, xq, xs, 1, out); break; \
        } \
    }
V_ROWS32(v_q8_0, PRUNE_KT_Q8_0)
V_ROWS32(v_q4_0, PRUNE_KT_Q4_0)
V_ROWS32(v_q5_0, PRUNE_KT_Q5_0)
V_ROWS32(v_q4_1, PRUNE_KT_Q4_1)
V_ROWS32(v_q5_1, PRUNE_KT_Q5_1)
#undef AVX2
#define AVX2 AVX512
#define v_rows_32 z_rows_32
V_ROWS32(z_q8_0, PRUNE_KT_Q8_0)
V_ROWS32(z_q4_0, PRUNE_KT_Q4_0)
V_ROWS32(z_q5_0, PRUNE_KT_Q5_0)
V_ROWS32(z_q4_1, PRUNE_KT_Q4_1)
V_ROWS32(z_q5_1, PRUNE_KT_Q5_1)
#undef v_rows_32
#undef AVX2
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#else
int prune_q8_avx512_usable(void) { return 0; }
#endif

// MARK: - Driver

typedef void (*rows_fn)(int type, const uint8_t *row, int k, const uint8_t *xq, size_t xs, int n, float *out);

static rows_fn row_kernel(int path, int type) {
#if PRUNE_X86
    if (path == PRUNE_KPATH_AVX2 || path == PRUNE_Q8PATH_AVX512) {
        int z = path == PRUNE_Q8PATH_AVX512;
        switch (type) {
        case PRUNE_KT_Q4_K: return z ? z_q4k : v_q4k;
        case PRUNE_KT_Q6_K: return z ? z_q6k : v_q6k;
        case PRUNE_KT_Q8_0: return z ? z_q8_0 : v_q8_0;
        case PRUNE_KT_Q4_0: return z ? z_q4_0 : v_q4_0;
        case PRUNE_KT_Q4_1: return z ? z_q4_1 : v_q4_1;
        case PRUNE_KT_Q5_1: return z ? z_q5_1 : v_q5_1;
        default: return z ? z_q5_0 : v_q5_0;
        }
    }
#else
    (void)path;
#endif
    (void)type;
    return p_rows;
}

void prune_q8_gemm(int path, int type, const void *w, size_t row_bytes, int rows, int k,
                   const void *xq, int m, float *y, size_t ldy) {
    if (rows <= 0 || m <= 0 || !prune_q8_supports(type)) return;
    rows_fn f = row_kernel(path, type);
    size_t xs = prune_q8_row_bytes(type, k);
    const uint8_t *wb = (const uint8_t *)w, *xb = (const uint8_t *)xq;
    float out[NR];
    // Activation rows in groups of NR (they stay in the L1 cache) past every weight row.
    for (int i = 0; i < m; i += NR) {
        int n = m - i < NR ? m - i : NR;
        for (int r = 0; r < rows; r++) {
            f(type, wb + row_bytes * (size_t)r, k, xb + xs * (size_t)i, xs, n, out);
            for (int t = 0; t < n; t++) y[ldy * (size_t)(i + t) + r] = out[t];
        }
    }
}
