#include "prune_cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

/// CPUID.1:ECX bits OSXSAVE (27), AVX (28), FMA (12); XCR0 must enable `mask`.
static int avx_state_enabled(unsigned long long mask, int need_fma) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    if (need_fma && !(c & (1u << 12))) return 0;
    return (xcr0() & mask) == mask;
}

int prune_cpu_avx512_usable(void) {
    // XCR0: SSE (1), AVX (2), opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7).
    if (!avx_state_enabled(0xE6ull, 1)) return 0;
    unsigned int a, b, c, d;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    // CPUID.7.0:EBX: AVX2 (5), AVX512F (16), AVX512DQ (17), AVX512CD (28), AVX512BW (30), AVX512VL (31).
    unsigned int need = (1u << 5) | (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
    return (b & need) == need;
}

int prune_cpu_avx2_fma_usable(void) {
    if (!avx_state_enabled(0x6ull, 1)) return 0;
    unsigned int a, b, c, d;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;
}
#else
int prune_cpu_avx512_usable(void) { return 0; }
int prune_cpu_avx2_fma_usable(void) { return 0; }
#endif
