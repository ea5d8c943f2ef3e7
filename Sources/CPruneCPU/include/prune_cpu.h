// What the CPU can run, as the instruction set and the operating system allow it: CPUID's feature
// bits and XGETBV's enabled register states (an AVX-512 instruction raises SIGILL when the OS did not
// enable the zmm/opmask state in XCR0, whatever CPUID says).
#ifndef PRUNE_CPU_H
#define PRUNE_CPU_H

/// 1 when AVX-512 F, CD, BW, DQ and VL run here (CPUID bits, OSXSAVE, and XCR0 enabling the
/// SSE, AVX, opmask, ZMM_Hi256 and Hi16_ZMM states); 0 otherwise (and on non-x86 CPUs).
int prune_cpu_avx512_usable(void);
/// 1 when AVX2 and FMA run here (CPUID bits, OSXSAVE, XCR0 enabling SSE and AVX); 0 otherwise.
int prune_cpu_avx2_fma_usable(void);
/// A spin-wait hint (PAUSE on x86): a thread polling a flag yields the core's resources meanwhile.
static inline void prune_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
