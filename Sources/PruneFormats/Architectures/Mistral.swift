extension ArchitectureSpec {
    /// Mistral: Llama with a sliding window on every layer (v0.1; none in later versions). llama.cpp's
    /// converter writes it as `llama`, without the window.
    static let mistral = ArchitectureSpec(
        ggufNames: ["mistral"], hfNames: ["mistral", "MistralForCausalLM"],
        hfPrefix: "model.", hfBlockWord: "layers", globals: llamaGlobals, blocks: llamaBlocks,
        permutesQK: true,
        recipe: BlockRecipe(norm: .rmsNorm, positions: .rotary, feedForward: .gated, windowLayout: .all))
}
