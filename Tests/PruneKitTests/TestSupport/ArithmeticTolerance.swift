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
