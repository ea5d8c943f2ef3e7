import CBLAS
import CPruneCPU
import Foundation

/// Which OpenBLAS kernels run the matrix products.
///
/// OpenBLAS picks its kernels when the library loads, from the CPU model. Releases that do not
/// know a CPU fall back to generic SSE3 kernels ("Prescott"): OpenBLAS 0.3.21 (Debian 12) does so on
/// Sapphire Rapids, and its sgemm is then about 3× slower. `OPENBLAS_CORETYPE` in the environment
/// of the process overrides the choice; it must be set before the process starts.
public enum BLASCore {
    /// The kernel family in use ("Haswell", "SkylakeX", "Prescott", …).
    public static var name: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// A better `OPENBLAS_CORETYPE` for this CPU when OpenBLAS fell back to generic kernels although
    /// the CPU has AVX-512 ("SkylakeX") or AVX2 with FMA ("Haswell"); nil when the choice is fine or
    /// `OPENBLAS_CORETYPE` is already set. A kernel family is only suggested when both /proc/cpuinfo
    /// lists its flags and the CPU and the operating system really run it (CPUID, and XGETBV showing
    /// the register states enabled), so the suggestion never makes OpenBLAS raise SIGILL.
    public static var suggestedCoreType: String? {
        let flags: Set<String>
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            flags = Set(line.split(separator: " ").map(String.init))
        } else {
            flags = []
        }
        return suggestedCoreType(environment: ProcessInfo.processInfo.environment, coreName: name, cpuFlags: flags,
                                 avx512Usable: avx512Usable, avx2Usable: avx2FMAUsable)
    }

    /// The kernel families that fall back to generic SSE code (no AVX2, no FMA).
    static let genericFamilies: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai",
                                                "Coppermine", "Northwood", "Banias", "unknown"]

    /// Whether AVX2 and FMA run here (CPUID, and XGETBV showing the AVX state enabled).
    public static var avx2FMAUsable: Bool { prune_cpu_avx2_fma_usable() == 1 }
    /// Whether AVX-512 (F, CD, BW, DQ, VL) runs here.
    public static var avx512Usable: Bool { prune_cpu_avx512_usable() == 1 }

    /// A kernel family whose arithmetic differs from the one in use (`name`) and that this CPU runs:
    /// generic "Prescott" when the kernels in use have AVX2/FMA (their products are fused and blocked
    /// differently), "Haswell" when generic kernels run on a CPU with AVX2 and FMA, nil when the CPU
    /// offers no second family. The test command runs the numeric suites once more under it, so that a
    /// tolerance that holds for one family only fails on any machine.
    public static var otherFamily: String? { otherFamily(coreName: name, avx2Usable: avx2FMAUsable) }

    /// The decision of `otherFamily` from its inputs.
    package static func otherFamily(coreName: String, avx2Usable: Bool) -> String? {
        if !genericFamilies.contains(coreName) { return "Prescott" }
        return avx2Usable ? "Haswell" : nil
    }

    /// The decision of `suggestedCoreType` from its inputs.
    package static func suggestedCoreType(environment: [String: String], coreName: String, cpuFlags: Set<String>,
                                          avx512Usable: Bool, avx2Usable: Bool) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        guard genericFamilies.contains(coreName) else { return nil }
        let avx2 = avx2Usable && ["avx", "avx2", "fma"].allSatisfy(cpuFlags.contains)
        if avx2 && avx512Usable && ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(cpuFlags.contains) {
            return "SkylakeX"
        }
        if avx2 { return "Haswell" }
        return nil
    }
}
