import Foundation

/// Where a prune-apply run spent its time, in seconds (for the benchmark; never printed by the
/// library). Work done on several threads at once is apportioned to the wall time it took.
public struct ApplyTimings: Sendable, Equatable {
    /// Loading the manifest and its values, and streaming the model in (parsing, hashing, copying).
    public var read = 0.0
    /// σ_max(W₀) and the restraint (SVD of the accumulated delta, the restraint function).
    public var restraint = 0.0
    /// W₀ + ΔW̄ in f32 and encoding it to the stored type.
    public var materialise = 0.0
    /// The revert residual (what revert needs besides ΔW̄).
    public var residual = 0.0
    /// Compressing sidecar parts (the manifest copy, block residuals).
    public var compression = 0.0
    /// Serialising the sidecar (hashes, document, container) and writing it.
    public var write = 0.0
    /// Compressing and writing the model output.
    public var modelOutput = 0.0
    /// The whole run.
    public var total = 0.0

    public init() {}

    /// The part of the run that exists only to write the sidecar: residual, compression, write.
    public var sidecar: Double { residual + compression + write }
}

/// A monotonic clock reading in seconds.
@inline(__always) func clockSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Collects timings from the per-tensor work (reference type: filled inside the rewriter's callbacks).
final class ApplyClock: @unchecked Sendable {
    var timings = ApplyTimings()
    let lostBits = LostBitsTiming()

    /// Runs `body` and adds its wall time to `field`.
    func measure<R>(_ field: WritableKeyPath<ApplyTimings, Double>, _ body: () throws -> R) rethrows -> R {
        let t0 = clockSeconds()
        defer { timings[keyPath: field] += clockSeconds() - t0 }
        return try body()
    }
}

extension Optional where Wrapped == ApplyClock {
    /// Runs `body`, timing it when there is a clock.
    func measure<R>(_ field: WritableKeyPath<ApplyTimings, Double>, _ body: () throws -> R) rethrows -> R {
        guard let clock = self else { return try body() }
        return try clock.measure(field, body)
    }
}
