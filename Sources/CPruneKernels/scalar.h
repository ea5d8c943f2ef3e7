// Scalar pieces shared by the kernel files (kernels.c, q8_kernels.c, q8_tiles.c): little-endian loads, f16/bf16
// to f32, the K-quant scale unpacking, the 32-value blocks as integers.
#ifndef PRUNE_KERNELS_SCALAR_H
#define PRUNE_KERNELS_SCALAR_H

#include <stdint.h>
#include <string.h>

#include "prune_kernels.h"

static inline uint16_t load16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t load32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t float_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/// IEEE half to float, exactly (HalfFloat.toFloat): the 15 bits under an f32 exponent of 0, times 2^112.
static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t mag = h & 0x7fff;
    if (mag >= 0x7c00) return bits_to_float(sign | 0x7f800000u | ((mag & 0x3ff) << 13));
    float scaled = bits_to_float(mag << 13) * 0x1p112f;
    return bits_to_float(sign | float_to_bits(scaled));
}
static inline float bf16_to_float(uint16_t h) { return bits_to_float((uint32_t)h << 16); }

/// K-quant 6-bit scale and min j (0..7) of a Q4_K/Q5_K super-block (KScales.get).
static inline void kscale(int j, const uint8_t *q, uint8_t *sc, uint8_t *mn) {
    if (j < 4) { *sc = q[j] & 63; *mn = q[j + 4] & 63; }
    else { *sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4); *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
}

/// Q3_K's 6-bit scale j (0..15), unbiased by 32 later.
static inline int q3k_scale(int j, const uint8_t *s) {
    int low = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
    int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return low | (high << 4);
}

/// A 32-value block of Q8_0, Q4_0 or Q5_0: its values as signed integers (v[0..<32]), and its scale.
static inline float q32_unpack(int type, const uint8_t *b, int8_t *v) {
    switch (type) {
    case PRUNE_KT_Q8_0:
        memcpy(v, b + 2, 32);
        break;
    case PRUNE_KT_Q4_0:
        for (int l = 0; l < 16; l++) { v[l] = (int8_t)((b[2 + l] & 15) - 8); v[l + 16] = (int8_t)((b[2 + l] >> 4) - 8); }
        break;
    default: {   // Q5_0
        uint32_t qh = load32(b + 2);
        for (int l = 0; l < 16; l++) {
            v[l] = (int8_t)(((b[6 + l] & 15) | (((qh >> l) & 1) << 4)) - 16);
            v[l + 16] = (int8_t)(((b[6 + l] >> 4) | (((qh >> (l + 16)) & 1) << 4)) - 16);
        }
    }
    }
    return half_to_float(load16(b));
}
/// Q4_1 and Q5_1, the 32-value blocks with a min (value = d·v + m): the stored values v (0..15 or
/// 0..31) into v[0..<32], the min into *m, and the scale d returned.
static inline float q32m_unpack(int type, const uint8_t *b, uint8_t *v, float *m) {
    if (type == PRUNE_KT_Q4_1) {
        for (int l = 0; l < 16; l++) { v[l] = b[4 + l] & 15; v[l + 16] = b[4 + l] >> 4; }
    } else {   // Q5_1: bit c of qh is the fifth bit of value c
        uint32_t qh = load32(b + 4);
        for (int l = 0; l < 16; l++) {
            v[l] = (uint8_t)((b[8 + l] & 15) | (((qh >> l) & 1) << 4));
            v[l + 16] = (uint8_t)((b[8 + l] >> 4) | (((qh >> (l + 16)) & 1) << 4));
        }
    }
    *m = half_to_float(load16(b + 2));
    return half_to_float(load16(b));
}
/// Whether a 32-value type has a min (Q4_1, Q5_1).
static inline int q32_has_min(int type) { return type == PRUNE_KT_Q4_1 || type == PRUNE_KT_Q5_1; }
/// Bytes of one 32-value block (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1).
static inline int q32_block_bytes(int type) {
    switch (type) {
    case PRUNE_KT_Q8_0: return 34;
    case PRUNE_KT_Q4_0: return 18;
    case PRUNE_KT_Q4_1: return 20;
    case PRUNE_KT_Q5_1: return 24;
    default: return 22;   // Q5_0
    }
}

#endif
