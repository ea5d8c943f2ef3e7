extension ArchitectureSpec {
    /// Gemma 3 (text): Gemma 2 without softcapping, with QK-norm and 5 local (sliding-window, their
    /// own RoPE base, unscaled) to 1 global layer.
    static let gemma3 = ArchitectureSpec(
        ggufNames: ["gemma3"], hfNames: ["gemma3_text", "gemma3", "Gemma3ForCausalLM"],
        hfPrefix: "model.", hfBlockWord: "layers", globals: llamaGlobals,
        blocks: gemmaBlocks.merging(["self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm"]) { a, _ in a },
        hfNormAddsOne: true, tiesEmbeddingsByDefault: true, defaultActivation: "gelu_pytorch_tanh",
        ggufWindowLayout: .everyNthGlobal(6), ggufWidthScaledQueriesAtDepth: 62,
        recipe: BlockRecipe(norm: .rmsNorm, positions: .rotary, feedForward: .gated, qkNorm: true, sandwichNorms: true,
                            scalesEmbedding: true, windowLayout: .everyNthGlobal(6), localRope: true))
}
