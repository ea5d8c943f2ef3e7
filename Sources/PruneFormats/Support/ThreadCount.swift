import Foundation

/// The number of threads a `--threads` option asks for, as every tool resolves it: 0 (or none)
/// means one per core, and a larger count than the cores is capped at the cores. More threads than
/// cores only add per-thread scratch memory and start-up time (`--threads 100000` took minutes and
/// gigabytes), and no result depends on the thread count.
package enum ThreadCount {
    /// The cores this process may use (at least 1).
    package static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// `requested` (0 or less, or nil: one per core) capped at `cores`.
    package static func resolved(_ requested: Int?) -> Int {
        guard let n = requested, n > 0 else { return cores }
        return min(n, cores)
    }
}
