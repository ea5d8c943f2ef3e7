import Foundation
import PruneFormats

/// The function F applied to every singular value σ ≥ σ_max(W₀) of the accumulated delta.
public enum RestraintFunction: Sendable, Equatable, Hashable {
    /// F(σ) = log_α σ − log_α σ_max + σ_max, α > 1 (computed as ln(σ/σ_max)/ln α + σ_max).
    case log(base: Double)
    /// F(σ) = (σ + σ_max) / 2.
    case linear
    /// F(σ) = σ: no restraint (the delta is still truncated to its numerical rank).
    case none

    /// Parses "e" (also "log", "ln"), "1.2", "1.5", "2" or any number > 1 (optionally written
    /// "log:<α>" or "log_<α>"), "linear" and "none".
    public init(name: String) throws {
        let lower = name.trimmingCharacters(in: .whitespaces).lowercased()
        switch lower {
        case "e", "log", "ln", "log_e", "log:e": self = .log(base: M_E); return
        case "linear": self = .linear; return
        case "none": self = .none; return
        default: break
        }
        var number = Substring(lower)
        if number.hasPrefix("log:") || number.hasPrefix("log_") { number = number.dropFirst(4) }
        guard let alpha = Double(number), alpha.isFinite, alpha > 1 else {
            throw RestraintError.unknownFunction(name)
        }
        self = .log(base: alpha)
    }

    /// The canonical name ("e", "1.5", "linear", "none"); `init(name:)` parses it back.
    public var name: String {
        switch self {
        case .log(let base): return base == M_E ? "e" : "\(base)"
        case .linear: return "linear"
        case .none: return "none"
        }
    }

    /// F(σ) for σ ≥ σ_max (callers leave σ < σ_max untouched). Continuous at σ_max: F(σ_max) = σ_max.
    public func apply(_ sigma: Double, sigmaMax: Double) -> Double {
        switch self {
        case .log(let base): return Foundation.log(sigma / sigmaMax) / Foundation.log(base) + sigmaMax
        case .linear: return (sigma + sigmaMax) / 2
        case .none: return sigma
        }
    }
}
