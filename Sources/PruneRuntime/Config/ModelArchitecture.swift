/// The model families the runtime runs.
public enum ModelArchitecture: String, Sendable, CaseIterable {
    /// GPT-2: learned positions, LayerNorm, gelu MLP, fused q/k/v (Conv1D weights in Hugging Face files).
    case gpt2
    /// Llama family (Llama 2/3/3.x, SmolLM, TinyLlama, Mistral without a sliding window): RMSNorm,
    /// RoPE, grouped-query attention, SwiGLU MLP.
    case llama
}

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
