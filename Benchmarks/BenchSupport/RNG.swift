import Foundation

/// xorshift64*: deterministic and fast, for generated benchmark data (seed must not be 0).
public struct RNG: Sendable {
    public var s: UInt64
    public init(s: UInt64) { self.s = s }

    public mutating func next() -> UInt64 {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27
        return s &* 0x2545_F491_4F6C_DD1D
    }

    /// Uniform in (0, 1).
    public mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
}
