import Foundation
@testable import PruneRuntime

/// Tolerances derived from f32 arithmetic, never from one machine's run.
///
/// Two evaluations of the same f32 network that differ only in the order of their sums — another
/// OpenBLAS kernel family (FMA or not, other blockings), another batch shape, a KV cache instead of
/// one pass, torch instead of prune — differ in each sum of K terms by about √K·u times the
/// magnitude of its terms, where u = 2⁻²⁴ is the unit roundoff (rounding errors of a sum behave as
/// independent random variables: Higham & Mary, "A new approach to probabilistic rounding error
/// analysis", 2019; the bound with a factor λ fails with probability below 2·exp(−λ²/2)). A
/// transformer is a chain of stages (attention and MLP of every block, then the head); each adds
/// such an error to the residual stream, and the errors of the stages add up. So two evaluations
/// differ by at most
///
///     λ · u · √K · stages · scale
///
/// with K the longest sum (the hidden width, the MLP width or the number of attended positions),
/// `scale` the largest magnitude of the compared values, and λ = 4 (2·exp(−8) < 1e-3 per value for
/// one evaluation; the two evaluations and the values' correlation through the stream take the
/// rest of the margin). It is far below what a wrong computation gives (a padding, cache or mask bug
/// moves logits by 1e-2 of their scale and more), and it holds for any kernel family.
enum ArithmeticTolerance {
    static let unitRoundoff: Float = 0x1p-24
    static let lambda: Float = 4

    /// The difference two evaluations of `stages` chained stages may show, whose sums are at most
    /// `length` terms long, for values up to `scale` in magnitude.
    static func reordered(scale: Float, length: Int, stages: Int) -> Float {
        lambda * unitRoundoff * Float(max(1, length)).squareRoot() * Float(max(1, stages)) * scale
    }

    /// The longest sum of a model's forward over `positions` positions.
    static func longestSum(_ config: ModelConfig, positions: Int) -> Int {
        max(config.hiddenSize, config.ffnSize, config.queryWidth, positions)
    }

    /// Logits (or the stream after `blocks` blocks, without the head) of a model's forward.
    static func forward(_ config: ModelConfig, positions: Int, values: [Float], blocks: Int? = nil) -> Float {
        let stages = blocks.map { 2 * $0 + 1 } ?? (2 * config.layerCount + 1)
        return reordered(scale: largestMagnitude(values), length: longestSum(config, positions: positions), stages: stages)
    }

    static func largestMagnitude(_ values: [Float]) -> Float {
        values.reduce(0) { max($0, abs($1)) }
    }
}

extension ArithmeticTolerance {
    /// A directional derivative g′(0) of g(t) = f(x + t·v) by central differences, with a bound of
    /// its error derived from the arithmetic (not tuned):
    ///
    /// D(h) = (g(h) − g(−h))/2h = g′ + h²g‴/6 + O(h⁴). The estimate is D(h/2), whose truncation error
    /// is h²g‴/24; D(h) − D(h/2) = h²g‴/8 + O(h⁴), so |D(h) − D(h/2)|/3 is that error (to O(h⁴)).
    /// Each evaluation of g is within `noise` of the exact value (its f32 rounding), so D(h′) carries
    /// at most noise/h′ of rounding: 2·noise/h for D(h/2), and (noise/h + 2·noise/h)/3 = noise/h in
    /// the truncation estimate. The bound is |D(h) − D(h/2)|/3 + 3·noise/h, doubled for the O(h⁴) rest
    /// and the estimate's own error.
    static func centralDifference(step h: Double, noise: Double, _ g: (Double) -> Double) -> (value: Double, error: Double) {
        let full = (g(h) - g(-h)) / (2 * h)
        let half = (g(h / 2) - g(-h / 2)) / h
        return (half, 2 * (abs(full - half) / 3 + 3 * noise / h))
    }

    /// How far an f32 evaluation of Σᵢ cᵢ·yᵢ (the sum over i in f64) may be from the exact value when
    /// each yᵢ comes out of `stages` chained stages of sums at most `length` long, with |yᵢ| ≤ `scale`.
    /// The yᵢ's rounding errors are independent (as above), so their weighted sum grows as √(Σ cᵢ²),
    /// not Σ |cᵢ|; λ covers its tail as it covers each sum's.
    static func weightedSumNoise(weights c: [Float], scale: Float, length: Int, stages: Int) -> Double {
        Double(reordered(scale: scale, length: length, stages: stages)) * c.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }
}
