import CBLAS
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
    /// `OPENBLAS_CORETYPE` is already set.
    public static var suggestedCoreType: String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        guard ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
               "Northwood", "Banias", "unknown"].contains(name) else { return nil }
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }
}
