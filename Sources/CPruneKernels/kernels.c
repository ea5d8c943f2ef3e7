// Fused dequantize-and-multiply kernels and a row decoder on weights as stored (see prune_kernels.h).
//
// A row is read as groups of 32 values (one block of the 32-value types, an eighth of a K-quant
// super-block, 32 halves of F16/BF16; F16/BF16 rows end with a tail of k mod 32 values). Each path
// turns a group into 32 floats with the operations TensorCodec's decoders use (same products and
// sums, in the same order, never contracted), so both paths and TensorCodec decode the same bits.
// Value k of a row is accumulated into lane k mod 32 with a fused multiply-add; the 32 lanes are
// then added in a fixed tree (`reduce32`).
#include "prune_kernels.h"
#include "prune_cpu.h"

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

/// The 32 lanes in a fixed tree.
static inline float reduce32(const float *a) {
    float s[8];
    for (int j = 0; j < 8; j++) s[j] = (a[j] + a[j + 8]) + (a[j + 16] + a[j + 24]);
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

// MARK: - Scalar group decoders: group g of a row into out[32]

typedef void (*group_fn)(const uint8_t *row, int g, float *out);

static void g_f16(const uint8_t *row, int g, float *out) {
    const uint8_t *p = row + 64 * (size_t)g;
    for (int l = 0; l < 32; l++) out[l] = half_to_float(load16(p + 2 * l));
}
static void g_bf16(const uint8_t *row, int g, float *out) {
    const uint8_t *p = row + 64 * (size_t)g;
    for (int l = 0; l < 32; l++) out[l] = bf16_to_float(load16(p + 2 * l));
}
static void g_q8_0(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 34 * (size_t)g;
    float d = half_to_float(load16(b));
    const int8_t *q = (const int8_t *)(b + 2);
    for (int l = 0; l < 32; l++) out[l] = (float)q[l] * d;
}
static void g_q4_0(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 18 * (size_t)g;
    float d = half_to_float(load16(b));
    const uint8_t *q = b + 2;
    for (int l = 0; l < 16; l++) {
        out[l] = (float)((q[l] & 0x0f) - 8) * d;
        out[l + 16] = (float)((q[l] >> 4) - 8) * d;
    }
}
static void g_q4_1(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 20 * (size_t)g;
    float d = half_to_float(load16(b)), m = half_to_float(load16(b + 2));
    const uint8_t *q = b + 4;
    for (int l = 0; l < 16; l++) {
        out[l] = (float)(q[l] & 0x0f) * d + m;
        out[l + 16] = (float)(q[l] >> 4) * d + m;
    }
}
static void g_q5_0(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 22 * (size_t)g;
    float d = half_to_float(load16(b));
    uint32_t qh = load32(b + 2);
    const uint8_t *q = b + 6;
    for (int l = 0; l < 16; l++) {
        int h0 = (int)((qh >> l) & 1) << 4, h1 = (int)((qh >> (l + 16)) & 1) << 4;
        out[l] = (float)(((q[l] & 0x0f) | h0) - 16) * d;
        out[l + 16] = (float)(((q[l] >> 4) | h1) - 16) * d;
    }
}
static void g_q5_1(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 24 * (size_t)g;
    float d = half_to_float(load16(b)), m = half_to_float(load16(b + 2));
    uint32_t qh = load32(b + 4);
    const uint8_t *q = b + 8;
    for (int l = 0; l < 16; l++) {
        uint32_t h0 = (qh >> l) & 1, h1 = (qh >> (l + 16)) & 1;
        out[l] = (float)((uint32_t)(q[l] & 0x0f) | (h0 << 4)) * d + m;
        out[l + 16] = (float)((uint32_t)(q[l] >> 4) | (h1 << 4)) * d + m;
    }
}
static void g_q2_k(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 84 * (size_t)(g >> 3);
    int gb = g & 7, half = gb >> 2, shift = 2 * (gb & 3);
    float d = half_to_float(load16(b + 80)), dmin = half_to_float(load16(b + 82));
    const uint8_t *q = b + 16 + 32 * half;
    for (int part = 0; part < 2; part++) {
        uint8_t sc = b[2 * gb + part];
        float dl = d * (float)(sc & 0x0f), ml = dmin * (float)(sc >> 4);
        for (int l = 0; l < 16; l++) out[16 * part + l] = dl * (float)((q[16 * part + l] >> shift) & 3) - ml;
    }
}
static void g_q3_k(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 110 * (size_t)(g >> 3);
    int gb = g & 7, half = gb >> 2, shift = 2 * (gb & 3);
    const uint8_t *hmask = b, *qs = b + 32 + 32 * half, *sc = b + 96;
    float d = half_to_float(load16(b + 108));
    for (int part = 0; part < 2; part++) {
        float dl = d * (float)(q3k_scale(2 * gb + part, sc) - 32);
        for (int l = 16 * part; l < 16 * part + 16; l++) {
            int low = (qs[l] >> shift) & 3;
            int high = (hmask[l] >> gb) & 1;
            out[l] = dl * (float)(low - (high ? 0 : 4));
        }
    }
}
static void g_q4_k(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 144 * (size_t)(g >> 3);
    int gb = g & 7;
    float d = half_to_float(load16(b)), dmin = half_to_float(load16(b + 2));
    uint8_t sc, mn;
    kscale(gb, b + 4, &sc, &mn);
    float dl = d * (float)sc, ml = dmin * (float)mn;
    const uint8_t *q = b + 16 + 32 * (gb >> 1);
    int shift = 4 * (gb & 1);
    for (int l = 0; l < 32; l++) out[l] = dl * (float)((q[l] >> shift) & 0x0f) - ml;
}
static void g_q5_k(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 176 * (size_t)(g >> 3);
    int gb = g & 7;
    float d = half_to_float(load16(b)), dmin = half_to_float(load16(b + 2));
    uint8_t sc, mn;
    kscale(gb, b + 4, &sc, &mn);
    float dl = d * (float)sc, ml = dmin * (float)mn;
    const uint8_t *qh = b + 16, *q = b + 48 + 32 * (gb >> 1);
    int shift = 4 * (gb & 1);
    for (int l = 0; l < 32; l++) {
        uint8_t h = (qh[l] >> gb) & 1 ? 16 : 0;
        out[l] = dl * (float)((uint8_t)(((q[l] >> shift) & 0x0f) + h)) - ml;
    }
}
static void g_q6_k(const uint8_t *row, int g, float *out) {
    const uint8_t *b = row + 210 * (size_t)(g >> 3);
    int gb = g & 7, half = gb >> 2, sub = gb & 3;
    const uint8_t *ql = b + 64 * half + 32 * (sub & 1), *qh = b + 128 + 32 * half;
    const int8_t *sc = (const int8_t *)(b + 192) + 8 * half;
    float d = half_to_float(load16(b + 208));
    int nshift = sub >= 2 ? 4 : 0, hshift = 2 * sub;
    for (int l = 0; l < 32; l++) {
        int q = (int)(((ql[l] >> nshift) & 0x0f) | (((qh[l] >> hshift) & 3) << 4)) - 32;
        out[l] = d * (float)sc[(l >> 4) + 2 * sub] * (float)q;
    }
}

static group_fn scalar_group(int type) {
    switch (type) {
    case PRUNE_KT_F16: return g_f16;
    case PRUNE_KT_BF16: return g_bf16;
    case PRUNE_KT_Q8_0: return g_q8_0;
    case PRUNE_KT_Q4_0: return g_q4_0;
    case PRUNE_KT_Q4_1: return g_q4_1;
    case PRUNE_KT_Q5_0: return g_q5_0;
    case PRUNE_KT_Q5_1: return g_q5_1;
    case PRUNE_KT_Q2_K: return g_q2_k;
    case PRUNE_KT_Q3_K: return g_q3_k;
    case PRUNE_KT_Q4_K: return g_q4_k;
    case PRUNE_KT_Q5_K: return g_q5_k;
    case PRUNE_KT_Q6_K: return g_q6_k;
    default: return 0;
    }
}

int prune_kernels_block_size(int type) {
    switch (type) {
    case PRUNE_KT_F16: case PRUNE_KT_BF16: return 1;
    case PRUNE_KT_Q8_0: case PRUNE_KT_Q4_0: case PRUNE_KT_Q4_1: case PRUNE_KT_Q5_0: case PRUNE_KT_Q5_1: return 32;
    case PRUNE_KT_Q2_K: case PRUNE_KT_Q3_K: case PRUNE_KT_Q4_K: case PRUNE_KT_Q5_K: case PRUNE_KT_Q6_K: return 256;
    default: return 0;
    }
}

int prune_kernels_supports(int type) { return scalar_group(type) != 0; }

/// F16/BF16 rows: values 32·groups ..< k, one at a time into their lanes.
static void tail_dot(int type, const uint8_t *row, int from, int k, const float *x, float *lanes) {
    for (int c = from; c < k; c++) {
        uint16_t h = load16(row + 2 * (size_t)c);
        float v = type == PRUNE_KT_F16 ? half_to_float(h) : bf16_to_float(h);
        lanes[c & 31] = fmaf(v, x[c], lanes[c & 31]);
    }
}
static void tail_decode(int type, const uint8_t *row, int from, int k, float *dst) {
    for (int c = from; c < k; c++) {
        uint16_t h = load16(row + 2 * (size_t)c);
        dst[c] = type == PRUNE_KT_F16 ? half_to_float(h) : bf16_to_float(h);
    }
}

// MARK: - Portable path

static void gemv_portable(int type, const uint8_t *w, size_t rb, int rows, int k, const float *x, size_t ldx, int m,
                          float *y, size_t ldy) {
    group_fn f = scalar_group(type);
    int groups = k / 32;
    float v[32], lanes[32];
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = w + rb * (size_t)r;
        for (int i = 0; i < m; i++) {
            const float *xi = x + ldx * (size_t)i;
            for (int l = 0; l < 32; l++) lanes[l] = 0;
            for (int g = 0; g < groups; g++) {
                f(row, g, v);
                const float *xg = xi + 32 * (size_t)g;
                for (int l = 0; l < 32; l++) lanes[l] = fmaf(v[l], xg[l], lanes[l]);
            }
            if (32 * groups < k) tail_dot(type, row, 32 * groups, k, xi, lanes);
            y[ldy * (size_t)i + r] = reduce32(lanes);
        }
    }
}

static void decode_portable(int type, const uint8_t *w, size_t rb, int rows, int k, float *dst, size_t ldd) {
    group_fn f = scalar_group(type);
    int groups = k / 32;
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = w + rb * (size_t)r;
        float *out = dst + ldd * (size_t)r;
        for (int g = 0; g < groups; g++) f(row, g, out + 32 * (size_t)g);
        if (32 * groups < k) tail_decode(type, row, 32 * groups, k, out);
    }
}

// MARK: - AVX2 path

#if PRUNE_X86
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) static inline

/// A block's f16 scale with F16C: the value `half_to_float` gives (exact), without its branches.
AVX2_INLINE float h2f(const uint8_t *p) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(load16(p)))); }

AVX2_INLINE void cvt_i8x32(__m128i lo16, __m128i hi16, __m256 *v) {
    v[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo16));
    v[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo16, 8)));
    v[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi16));
    v[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi16, 8)));
}

AVX2_INLINE void a_f16(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *p = row + 64 * (size_t)g;
    for (int j = 0; j < 4; j++) v[j] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16 * j)));
}
AVX2_INLINE void a_bf16(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *p = row + 64 * (size_t)g;
    for (int j = 0; j < 4; j++)
        v[j] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 16 * j))), 16));
}
AVX2_INLINE void a_q8_0(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *b = row + 34 * (size_t)g;
    __m256 d = _mm256_set1_ps(h2f(b));
    __m128i lo = _mm_loadu_si128((const __m128i *)(b + 2)), hi = _mm_loadu_si128((const __m128i *)(b + 18));
    cvt_i8x32(lo, hi, v);
    for (int j = 0; j < 4; j++) v[j] = _mm256_mul_ps(v[j], d);
}
AVX2_INLINE void a_q4_0(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *b = row + 18 * (size_t)g;
    __m256 d = _mm256_set1_ps(h2f(b));
    __m128i q = _mm_loadu_si128((const __m128i *)(b + 2)), m4 = _mm_set1_epi8(0x0f), e8 = _mm_set1_epi8(8);
    __m128i lo = _mm_sub_epi8(_mm_and_si128(q, m4), e8);
    __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), e8);
    cvt_i8x32(lo, hi, v);
    for (int j = 0; j < 4; j++) v[j] = _mm256_mul_ps(v[j], d);
}
AVX2_INLINE void a_q4_1(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *b = row + 20 * (size_t)g;
    __m256 d = _mm256_set1_ps(h2f(b)), m = _mm256_set1_ps(h2f(b + 2));
    __m128i q = _mm_loadu_si128((const __m128i *)(b + 4)), m4 = _mm_set1_epi8(0x0f);
    cvt_i8x32(_mm_and_si128(q, m4), _mm_and_si128(_mm_srli_epi16(q, 4), m4), v);   // 0..15: signed = unsigned
    for (int j = 0; j < 4; j++) v[j] = _mm256_add_ps(_mm256_mul_ps(v[j], d), m);
}
/// Q4_K and Q5_K (a super-block at `b`, group gb of 8): the low nibbles of the group's 32 values
/// (qs: the super-block's packed nibbles, two groups per 32 bytes), and its scale and min.
AVX2_INLINE __m256i k_nibbles(const uint8_t *qs, int gb) {
    __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * (gb >> 1)));
    if (gb & 1) q = _mm256_srli_epi16(q, 4);
    return _mm256_and_si256(q, _mm256_set1_epi8(0x0f));
}
/// v = d·sc·q − dmin·mn for the group's values q (0..31).
AVX2_INLINE void k_affine(const uint8_t *b, int gb, __m256i q, __m256 *v) {
    uint8_t sc, mn;
    kscale(gb, b + 4, &sc, &mn);
    __m256 dl = _mm256_set1_ps(h2f(b) * (float)sc), ml = _mm256_set1_ps(h2f(b + 2) * (float)mn);
    cvt_i8x32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1), v);
    for (int j = 0; j < 4; j++) v[j] = _mm256_sub_ps(_mm256_mul_ps(dl, v[j]), ml);
}
AVX2_INLINE void a_q4_k(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *b = row + 144 * (size_t)(g >> 3);
    int gb = g & 7;
    k_affine(b, gb, k_nibbles(b + 16, gb), v);
}
AVX2_INLINE void a_q5_k(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *b = row + 176 * (size_t)(g >> 3);
    int gb = g & 7;
    __m256i h = _mm256_loadu_si256((const __m256i *)(b + 16));
    // bit gb of each byte → 16
    __m256i bit = _mm256_set1_epi8((char)(1 << gb));
    h = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bit), bit), _mm256_set1_epi8(16));
    k_affine(b, gb, _mm256_or_si256(k_nibbles(b + 48, gb), h), v);
}
AVX2_INLINE void a_q6_k(const uint8_t *row, int g, __m256 *v) {
    const uint8_t *b = row + 210 * (size_t)(g >> 3);
    int gb = g & 7, half = gb >> 2, sub = gb & 3;
    const int8_t *sc = (const int8_t *)(b + 192) + 8 * half;
    float d = h2f(b + 208);
    __m256 s0 = _mm256_set1_ps(d * (float)sc[2 * sub]), s1 = _mm256_set1_ps(d * (float)sc[2 * sub + 1]);
    __m256i ql = _mm256_loadu_si256((const __m256i *)(b + 64 * half + 32 * (sub & 1)));
    __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * half));
    if (sub >= 2) ql = _mm256_srli_epi16(ql, 4);
    ql = _mm256_and_si256(ql, _mm256_set1_epi8(0x0f));
    qh = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * sub)), _mm256_set1_epi8(3));
    __m256i q = _mm256_sub_epi8(_mm256_or_si256(ql, _mm256_slli_epi16(qh, 4)), _mm256_set1_epi8(32));
    cvt_i8x32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1), v);
    v[0] = _mm256_mul_ps(s0, v[0]); v[1] = _mm256_mul_ps(s0, v[1]);
    v[2] = _mm256_mul_ps(s1, v[2]); v[3] = _mm256_mul_ps(s1, v[3]);
}
/// The types without a vector decoder: the scalar group, then loads (same values).
#define VIA_SCALAR(name, fn) \
    AVX2_INLINE void name(const uint8_t *row, int g, __m256 *v) { \
        float t[32] __attribute__((aligned(32))); \
        fn(row, g, t); \
        for (int j = 0; j < 4; j++) v[j] = _mm256_load_ps(t + 8 * j); \
    }
VIA_SCALAR(a_q5_0, g_q5_0)
VIA_SCALAR(a_q5_1, g_q5_1)
VIA_SCALAR(a_q2_k, g_q2_k)
VIA_SCALAR(a_q3_k, g_q3_k)

/// One type's AVX2 gemv and decoder. Rows are done one at a time, activation rows in pairs
/// (one decode, two sets of four accumulators). STEP groups are unrolled together (a K-quant
/// super-block's 8: each group's place in its super-block is then a constant, and the block's scales
/// are read once).
#define AVX2_KERNELS(T, GROUP, STEP) \
    AVX2 static void gemv_avx2_##T(int type, const uint8_t *w, size_t rb, int rows, int k, const float *x, size_t ldx, \
                                   int m, float *y, size_t ldy) { \
        int groups = k / 32; \
        float lanes[32] __attribute__((aligned(32))), lanes2[32] __attribute__((aligned(32))); \
        for (int r = 0; r < rows; r++) { \
            const uint8_t *row = w + rb * (size_t)r; \
            int i = 0; \
            for (; i + 1 < m; i += 2) { \
                const float *x0 = x + ldx * (size_t)i, *x1 = x0 + ldx; \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0; \
                for (int sb = 0; sb < groups / STEP; sb++) _Pragma("clang loop unroll(full)") for (int u = 0; u < STEP; u++) { \
                    int g = STEP * sb + u; \
                    __m256 v[4]; \
                    GROUP(row, g, v); \
                    const float *p = x0 + 32 * (size_t)g, *q = x1 + 32 * (size_t)g; \
                    a0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(p), a0); \
                    a1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(p + 8), a1); \
                    a2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(p + 16), a2); \
                    a3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(p + 24), a3); \
                    b0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(q), b0); \
                    b1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(q + 8), b1); \
                    b2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(q + 16), b2); \
                    b3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(q + 24), b3); \
                } \
                _mm256_store_ps(lanes, a0); _mm256_store_ps(lanes + 8, a1); \
                _mm256_store_ps(lanes + 16, a2); _mm256_store_ps(lanes + 24, a3); \
                _mm256_store_ps(lanes2, b0); _mm256_store_ps(lanes2 + 8, b1); \
                _mm256_store_ps(lanes2 + 16, b2); _mm256_store_ps(lanes2 + 24, b3); \
                if (32 * groups < k) { \
                    tail_dot(type, row, 32 * groups, k, x0, lanes); \
                    tail_dot(type, row, 32 * groups, k, x1, lanes2); \
                } \
                y[ldy * (size_t)i + r] = reduce32(lanes); \
                y[ldy * (size_t)(i + 1) + r] = reduce32(lanes2); \
            } \
            if (i < m) { \
                const float *x0 = x + ldx * (size_t)i; \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0; \
                for (int sb = 0; sb < groups / STEP; sb++) _Pragma("clang loop unroll(full)") for (int u = 0; u < STEP; u++) { \
                    int g = STEP * sb + u; \
                    __m256 v[4]; \
                    GROUP(row, g, v); \
                    const float *p = x0 + 32 * (size_t)g; \
                    a0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(p), a0); \
                    a1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(p + 8), a1); \
                    a2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(p + 16), a2); \
                    a3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(p + 24), a3); \
                } \
                _mm256_store_ps(lanes, a0); _mm256_store_ps(lanes + 8, a1); \
                _mm256_store_ps(lanes + 16, a2); _mm256_store_ps(lanes + 24, a3); \
                if (32 * groups < k) tail_dot(type, row, 32 * groups, k, x0, lanes); \
                y[ldy * (size_t)i + r] = reduce32(lanes); \
            } \
        } \
    } \
    AVX2 static void decode_avx2_##T(int type, const uint8_t *w, size_t rb, int rows, int k, float *dst, size_t ldd) { \
        int groups = k / 32; \
        for (int r = 0; r < rows; r++) { \
            const uint8_t *row = w + rb * (size_t)r; \
            float *out = dst + ldd * (size_t)r; \
            for (int g = 0; g < groups; g++) { \
                __m256 v[4]; \
                GROUP(row, g, v); \
                for (int j = 0; j < 4; j++) _mm256_storeu_ps(out + 32 * (size_t)g + 8 * j, v[j]); \
            } \
            if (32 * groups < k) tail_decode(type, row, 32 * groups, k, out); \
        } \
    }

AVX2_KERNELS(f16, a_f16, 1)
AVX2_KERNELS(bf16, a_bf16, 1)
AVX2_KERNELS(q8_0, a_q8_0, 1)
AVX2_KERNELS(q4_0, a_q4_0, 1)
AVX2_KERNELS(q4_1, a_q4_1, 1)
AVX2_KERNELS(q5_0, a_q5_0, 1)
AVX2_KERNELS(q5_1, a_q5_1, 1)
AVX2_KERNELS(q2_k, a_q2_k, 8)
AVX2_KERNELS(q3_k, a_q3_k, 8)
AVX2_KERNELS(q4_k, a_q4_k, 8)
AVX2_KERNELS(q5_k, a_q5_k, 8)
AVX2_KERNELS(q6_k, a_q6_k, 8)

// MARK: - AVX-512 path (gemv only)

#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#define AVX512_INLINE __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"), always_inline)) static inline

/// (float)(q + base) for q = 0..15: the values a 4-bit block's table is made from.
AVX512_INLINE __m512 z_iota(int base) {
    return _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(base)));
}
/// 32 nibbles (bytes 0..15) looked up in a 16-entry table: v[0] values 0..15, v[1] values 16..31.
AVX512_INLINE void z_lookup(__m256i q, __m512 table, __m512 *v) {
    v[0] = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(q)), table);
    v[1] = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(q, 1)), table);
}
/// 32 signed bytes as floats times s0 (values 0..15) and s1 (16..31).
AVX512_INLINE void z_scaled_i8(__m256i q, __m512 s0, __m512 s1, __m512 *v) {
    v[0] = _mm512_mul_ps(s0, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))));
    v[1] = _mm512_mul_ps(s1, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))));
}
/// The nibbles of 16 packed bytes: low ones first, then high ones (Q4_0, Q4_1 order).
AVX512_INLINE __m256i z_nibbles16(const uint8_t *p) {
    __m128i q = _mm_loadu_si128((const __m128i *)p), m4 = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m4), _mm_and_si128(q, m4));
}

// Each group decodes to the values of `a_<type>` (same products and sums): a table entry holds the
// value of its nibble computed as the AVX2 decoder computes it.
AVX512_INLINE void z_q4_0(const uint8_t *row, int g, __m512 *v) {
    const uint8_t *b = row + 18 * (size_t)g;
    z_lookup(z_nibbles16(b + 2), _mm512_mul_ps(z_iota(-8), _mm512_set1_ps(h2f(b))), v);
}
AVX512_INLINE void z_q4_1(const uint8_t *row, int g, __m512 *v) {
    const uint8_t *b = row + 20 * (size_t)g;
    __m512 table = _mm512_add_ps(_mm512_mul_ps(z_iota(0), _mm512_set1_ps(h2f(b))), _mm512_set1_ps(h2f(b + 2)));
    z_lookup(z_nibbles16(b + 4), table, v);
}
AVX512_INLINE void z_q4_k(const uint8_t *row, int g, __m512 *v) {
    const uint8_t *b = row + 144 * (size_t)(g >> 3);
    int gb = g & 7;
    uint8_t sc, mn;
    kscale(gb, b + 4, &sc, &mn);
    __m512 dl = _mm512_set1_ps(h2f(b) * (float)sc), ml = _mm512_set1_ps(h2f(b + 2) * (float)mn);
    z_lookup(k_nibbles(b + 16, gb), _mm512_sub_ps(_mm512_mul_ps(dl, z_iota(0)), ml), v);
}
AVX512_INLINE void z_q6_k(const uint8_t *row, int g, __m512 *v) {
    const uint8_t *b = row + 210 * (size_t)(g >> 3);
    int gb = g & 7, half = gb >> 2, sub = gb & 3;
    const int8_t *sc = (const int8_t *)(b + 192) + 8 * half;
    float d = h2f(b + 208);
    __m256i ql = _mm256_loadu_si256((const __m256i *)(b + 64 * half + 32 * (sub & 1)));
    __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * half));
    if (sub >= 2) ql = _mm256_srli_epi16(ql, 4);
    ql = _mm256_and_si256(ql, _mm256_set1_epi8(0x0f));
    qh = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * sub)), _mm256_set1_epi8(3));
    __m256i q = _mm256_sub_epi8(_mm256_or_si256(ql, _mm256_slli_epi16(qh, 4)), _mm256_set1_epi8(32));
    z_scaled_i8(q, _mm512_set1_ps(d * (float)sc[2 * sub]), _mm512_set1_ps(d * (float)sc[2 * sub + 1]), v);
}

/// One type's AVX-512 gemv: as `AVX2_KERNELS`, each set of 32 lanes in two 16-wide accumulators.
#define AVX512_GEMV(T, GROUP, STEP) \
    AVX512 static void gemv_avx512_##T(int type, const uint8_t *w, size_t rb, int rows, int k, const float *x, size_t ldx, \
                                       int m, float *y, size_t ldy) { \
        (void)type; \
        int groups = k / 32; \
        float lanes[32] __attribute__((aligned(64))), lanes2[32] __attribute__((aligned(64))); \
        for (int r = 0; r < rows; r++) { \
            const uint8_t *row = w + rb * (size_t)r; \
            int i = 0; \
            for (; i + 1 < m; i += 2) { \
                const float *x0 = x + ldx * (size_t)i, *x1 = x0 + ldx; \
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0; \
                for (int sb = 0; sb < groups / STEP; sb++) _Pragma("clang loop unroll(full)") for (int u = 0; u < STEP; u++) { \
                    int g = STEP * sb + u; \
                    __m512 v[2]; \
                    GROUP(row, g, v); \
                    const float *p = x0 + 32 * (size_t)g, *q = x1 + 32 * (size_t)g; \
                    a0 = _mm512_fmadd_ps(v[0], _mm512_loadu_ps(p), a0); \
                    a1 = _mm512_fmadd_ps(v[1], _mm512_loadu_ps(p + 16), a1); \
                    b0 = _mm512_fmadd_ps(v[0], _mm512_loadu_ps(q), b0); \
                    b1 = _mm512_fmadd_ps(v[1], _mm512_loadu_ps(q + 16), b1); \
                } \
                _mm512_store_ps(lanes, a0); _mm512_store_ps(lanes + 16, a1); \
                _mm512_store_ps(lanes2, b0); _mm512_store_ps(lanes2 + 16, b1); \
                y[ldy * (size_t)i + r] = reduce32(lanes); \
                y[ldy * (size_t)(i + 1) + r] = reduce32(lanes2); \
            } \
            if (i < m) { \
                const float *x0 = x + ldx * (size_t)i; \
                __m512 a0 = _mm512_setzero_ps(), a1 = a0; \
                for (int sb = 0; sb < groups / STEP; sb++) _Pragma("clang loop unroll(full)") for (int u = 0; u < STEP; u++) { \
                    int g = STEP * sb + u; \
                    __m512 v[2]; \
                    GROUP(row, g, v); \
                    const float *p = x0 + 32 * (size_t)g; \
                    a0 = _mm512_fmadd_ps(v[0], _mm512_loadu_ps(p), a0); \
                    a1 = _mm512_fmadd_ps(v[1], _mm512_loadu_ps(p + 16), a1); \
                } \
                _mm512_store_ps(lanes, a0); _mm512_store_ps(lanes + 16, a1); \
                y[ldy * (size_t)i + r] = reduce32(lanes); \
            } \
        } \
    }

AVX512_GEMV(q4_0, z_q4_0, 1)
AVX512_GEMV(q4_1, z_q4_1, 1)
AVX512_GEMV(q4_k, z_q4_k, 8)
AVX512_GEMV(q6_k, z_q6_k, 8)

typedef void (*gemv_fn)(int, const uint8_t *, size_t, int, int, const float *, size_t, int, float *, size_t);
typedef void (*decode_fn)(int, const uint8_t *, size_t, int, int, float *, size_t);

static gemv_fn avx2_gemv(int type) {
    switch (type) {
    case PRUNE_KT_F16: return gemv_avx2_f16;
    case PRUNE_KT_BF16: return gemv_avx2_bf16;
    case PRUNE_KT_Q8_0: return gemv_avx2_q8_0;
    case PRUNE_KT_Q4_0: return gemv_avx2_q4_0;
    case PRUNE_KT_Q4_1: return gemv_avx2_q4_1;
    case PRUNE_KT_Q5_0: return gemv_avx2_q5_0;
    case PRUNE_KT_Q5_1: return gemv_avx2_q5_1;
    case PRUNE_KT_Q2_K: return gemv_avx2_q2_k;
    case PRUNE_KT_Q3_K: return gemv_avx2_q3_k;
    case PRUNE_KT_Q4_K: return gemv_avx2_q4_k;
    case PRUNE_KT_Q5_K: return gemv_avx2_q5_k;
    case PRUNE_KT_Q6_K: return gemv_avx2_q6_k;
    default: return 0;
    }
}
/// The AVX-512 gemv of `type`, or the AVX2 one where it has none.
static gemv_fn avx512_gemv(int type) {
    switch (type) {
    case PRUNE_KT_Q4_0: return gemv_avx512_q4_0;
    case PRUNE_KT_Q4_1: return gemv_avx512_q4_1;
    case PRUNE_KT_Q4_K: return gemv_avx512_q4_k;
    case PRUNE_KT_Q6_K: return gemv_avx512_q6_k;
    default: return avx2_gemv(type);
    }
}
static decode_fn avx2_decode(int type) {
    switch (type) {
    case PRUNE_KT_F16: return decode_avx2_f16;
    case PRUNE_KT_BF16: return decode_avx2_bf16;
    case PRUNE_KT_Q8_0: return decode_avx2_q8_0;
    case PRUNE_KT_Q4_0: return decode_avx2_q4_0;
    case PRUNE_KT_Q4_1: return decode_avx2_q4_1;
    case PRUNE_KT_Q5_0: return decode_avx2_q5_0;
    case PRUNE_KT_Q5_1: return decode_avx2_q5_1;
    case PRUNE_KT_Q2_K: return decode_avx2_q2_k;
    case PRUNE_KT_Q3_K: return decode_avx2_q3_k;
    case PRUNE_KT_Q4_K: return decode_avx2_q4_k;
    case PRUNE_KT_Q5_K: return decode_avx2_q5_k;
    case PRUNE_KT_Q6_K: return decode_avx2_q6_k;
    default: return 0;
    }
}

int prune_kernels_avx2_usable(void) {
    if (!prune_cpu_avx2_fma_usable()) return 0;
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & (1u << 29)) != 0;   // F16C
}
int prune_kernels_avx512_usable(void) { return prune_kernels_avx2_usable() && prune_cpu_avx512_usable(); }
#else
int prune_kernels_avx2_usable(void) { return 0; }
int prune_kernels_avx512_usable(void) { return 0; }
#endif

void prune_kernels_gemv(int path, int type, const void *w, size_t row_bytes, int rows, int k,
                        const float *x, size_t ldx, int m, float *y, size_t ldy) {
    if (rows <= 0 || m <= 0) return;
#if PRUNE_X86
    if (path == PRUNE_KPATH_AVX2 || path == PRUNE_KPATH_AVX512) {
        gemv_fn f = path == PRUNE_KPATH_AVX512 ? avx512_gemv(type) : avx2_gemv(type);
        f(type, (const uint8_t *)w, row_bytes, rows, k, x, ldx, m, y, ldy);
        return;
    }
#endif
    gemv_portable(type, (const uint8_t *)w, row_bytes, rows, k, x, ldx, m, y, ldy);
}

void prune_kernels_decode(int path, int type, const void *w, size_t row_bytes, int rows, int k, float *dst, size_t ldd) {
    if (rows <= 0) return;
#if PRUNE_X86
    if (path == PRUNE_KPATH_AVX2 || path == PRUNE_KPATH_AVX512) {
        avx2_decode(type)(type, (const uint8_t *)w, row_bytes, rows, k, dst, ldd);
        return;
    }
#endif
    decode_portable(type, (const uint8_t *)w, row_bytes, rows, k, dst, ldd);
}
