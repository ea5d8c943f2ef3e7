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
                                 avx512Usable: prune_cpu_avx512_usable() == 1, avx2Usable: prune_cpu_avx2_fma_usable() == 1)
    }

    /// The decision of `suggestedCoreType` from its inputs.
    package static func suggestedCoreType(environment: [String: String], coreName: String, cpuFlags: Set<String>,
                                          avx512Usable: Bool, avx2Usable: Bool) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        guard ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
               "Northwood", "Banias", "unknown"].contains(coreName) else { return nil }
        let avx2 = avx2Usable && ["avx", "avx2", "fma"].allSatisfy(cpuFlags.contains)
        if avx2 && avx512Usable && ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(cpuFlags.contains) {
            return "SkylakeX"
        }
        if avx2 { return "Haswell" }
        return nil
    }
}
