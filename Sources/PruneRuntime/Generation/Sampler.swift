import Foundation

/// How the next token is chosen from the logits.
public enum Sampling: Sendable, Equatable {
    /// The most likely token (the lowest id among equal logits).
    case greedy
    /// Softmax of logits/temperature over the `topK` most likely tokens (all when nil), drawn with a
    /// generator seeded by `seed` (the same seed gives the same tokens).
    case temperature(Float, topK: Int?, seed: UInt64)
}

/// A token and its log-probability under the full softmax of the logits.
public struct TokenLogprob: Sendable, Equatable {
    public var id: Int32
    public var logprob: Float

    public init(id: Int32, logprob: Float) {
        self.id = id
        self.logprob = logprob
    }
}

/// Picks tokens from logits rows; holds the random state of a sampled generation.
public struct Sampler: Sendable {
    public let sampling: Sampling
    private var state: UInt64

    public init(_ sampling: Sampling) {
        self.sampling = sampling
        if case .temperature(_, _, let seed) = sampling { state = seed } else { state = 0 }
    }

    /// The next token for one row of logits.
    public mutating func next(_ logits: ArraySlice<Float>) -> Int32 {
        switch sampling {
        case .greedy:
            return Int32(Sampler.argmax(logits))
        case .temperature(let t, let k, _):
            guard t > 0 else { return Int32(Sampler.argmax(logits)) }
            let base = logits.startIndex
            var order = Array(0..<logits.count)
            if let k, k > 0, k < order.count {
                order.sort { logits[base + $0] != logits[base + $1] ? logits[base + $0] > logits[base + $1] : $0 < $1 }
                order.removeLast(order.count - k)
            }
            var m = -Float.infinity
            for i in order where logits[base + i] > m { m = logits[base + i] }
            var weights = [Double](repeating: 0, count: order.count)
            var total = 0.0
            for (j, i) in order.enumerated() {
                let w = exp(Double(logits[base + i] - m) / Double(t))
                weights[j] = w
                total += w
            }
            let u = nextUniform() * total
            var acc = 0.0
            for (j, i) in order.enumerated() {
                acc += weights[j]
                if u < acc { return Int32(i) }
            }
            return Int32(order.last ?? 0)
        }
    }

    /// A uniform double in [0, 1) (SplitMix64).
    private mutating func nextUniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }

    /// The index of the largest value (the first one among equals).
    public static func argmax(_ x: ArraySlice<Float>) -> Int {
        var best = x.startIndex
        for i in x.indices where x[i] > x[best] { best = i }
        return best - x.startIndex
    }

    /// log-softmax of `x` (in f64, rounded to f32).
    public static func logSoftmax(_ x: ArraySlice<Float>) -> [Float] {
        var m = -Float.infinity
        for v in x where v > m { m = v }
        var sum = 0.0
        for v in x { sum += exp(Double(v - m)) }
        let lse = Double(m) + log(sum)
        return x.map { Float(Double($0) - lse) }
    }

    /// The `n` most likely tokens with their log-probabilities (ties by lower id).
    public static func top(_ n: Int, logprobs: [Float]) -> [TokenLogprob] {
        guard n > 0 else { return [] }
        var best: [Int] = []
        for i in logprobs.indices {
            if best.count < n || logprobs[i] > logprobs[best[best.count - 1]] {
                var j = best.count
                while j > 0 && logprobs[best[j - 1]] < logprobs[i] { j -= 1 }
                best.insert(i, at: j)
                if best.count > n { best.removeLast() }
            }
        }
        return best.map { TokenLogprob(id: Int32($0), logprob: logprobs[$0]) }
    }
}
