import PruneFormats

/// The model families the runtime runs: PruneFormats' `KnownArchitecture`, whose spec gives the
/// tensor tables and the block recipe (`Architectures/<Family>.swift`).
public typealias ModelArchitecture = KnownArchitecture

/// The MLP activation.
public enum ActivationFunction: String, Sendable, Equatable {
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): GPT-2's `gelu_new` (= `gelu_pytorch_tanh`).
    case geluTanh
    /// 0.5·x·(1 + erf(x/√2)): exact gelu.
    case geluErf
    case relu
    /// x·σ(x), gating SwiGLU in the Llama family.
    case silu
}
