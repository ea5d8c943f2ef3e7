extension ArchitectureSpec {
    /// Qwen 2 and 2.5: Llama with biases on q, k and v (not on o), NEOX RoPE (no permutation).
    static let qwen2 = ArchitectureSpec(
        ggufNames: ["qwen2"], hfNames: ["qwen2", "Qwen2ForCausalLM"],
        hfPrefix: "model.", hfBlockWord: "layers", globals: llamaGlobals, blocks: llamaBlocks,
        recipe: BlockRecipe(norm: .rmsNorm, positions: .rotary, feedForward: .gated, qkvBias: true))
}
