import Foundation

/// Rotary position embedding of the Llama family (Hugging Face's rotate-half convention: the pairs
/// are (i, i + dimensions/2) of each head).
public struct RopeConfig: Sendable, Equatable {
    /// rope_theta / `<arch>.rope.freq_base`.
    public var theta: Double
    /// Rotated dimensions of each head (the first `dimensions`; normally the head dimension).
    public var dimensions: Int
    public var scaling: RopeScaling

    public init(theta: Double, dimensions: Int, scaling: RopeScaling = .none) {
        self.theta = theta
        self.dimensions = dimensions
        self.scaling = scaling
    }

    /// The inverse frequency of each rotated pair, in f32 as transformers computes it:
    /// `1 / theta^(2i/dimensions)`, then the scaling.
    public func inverseFrequencies() -> [Float] {
        let half = dimensions / 2
        let base = Float(theta)
        var inv = (0..<half).map { i -> Float in 1 / powf(base, Float(2 * i) / Float(dimensions)) }
        switch scaling {
        case .none:
            break
        case .linear(let factor):
            inv = inv.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            // transformers' _compute_llama3_parameters (f32 arithmetic).
            let f = Float(factor), lo = Float(low), hi = Float(high), old = Float(original)
            let lowWavelen = old / lo, highWavelen = old / hi
            inv = inv.map { freq in
                let wavelen = 2 * Float.pi / freq
                let scaled = wavelen > lowWavelen ? freq / f : freq
                let isMedium = !(wavelen < highWavelen) && !(wavelen > lowWavelen)
                guard isMedium else { return scaled }
                let smooth = (old / wavelen - lo) / (hi - lo)
                return (1 - smooth) * scaled / f + smooth * scaled
            }
        case .frequencyFactors(let factors):
            // llama.cpp's rope_freqs tensor: the angle is divided by the factor.
            inv = zip(inv, factors).map { $0 / $1 }
        }
        return inv
    }
}

/// How the rotary frequencies are scaled for a longer context.
public enum RopeScaling: Sendable, Equatable {
    case none
    /// Positions divided by `factor` (`"linear"` in config.json, `rope.scaling.type = linear` in GGUF).
    case linear(factor: Double)
    /// Llama 3.1's frequency-dependent scaling (`"rope_type": "llama3"`).
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContext: Int)
    /// Per-pair divisors of the frequency, as llama.cpp's converter stores Llama 3 scaling in
    /// the `rope_freqs.weight` tensor.
    case frequencyFactors([Float])
}
