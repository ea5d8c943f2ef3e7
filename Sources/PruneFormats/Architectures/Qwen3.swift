extension ArchitectureSpec {
    /// Qwen 3: Qwen 2 without biases, with a per-head RMSNorm of q and k before RoPE and an explicit
    /// head width (q width ≠ hidden size).
    static let qwen3 = ArchitectureSpec(
        ggufNames: ["qwen3"], hfNames: ["qwen3", "Qwen3ForCausalLM"],
        hfPrefix: "model.", hfBlockWord: "layers", globals: llamaGlobals,
        blocks: llamaBlocks.merging(["self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm"]) { a, _ in a },
        recipe: BlockRecipe(norm: .rmsNorm, positions: .rotary, feedForward: .gated, qkNorm: true))
}
